/// One connector as a ``Worker`` runs it: a source or a sink task on the
/// runtime, with what the worker needs to order, watch and stop it.
public struct WorkerConnector: Sendable {
    /// Whether the connector writes into Kafka or reads from it; on the
    /// embedded broker sinks join before sources read (see ``Worker``).
    public enum Role: Sendable, Equatable {
        case source
        case sink
    }

    /// The connector's name (`name` in its config).
    public var name: String
    public var role: Role
    /// Records handled, for progress lines.
    public var throughput: Throughput
    /// Runs until cancelled (the graceful stop: finish the batch in hand,
    /// commit, return) or until it fails.
    public var run: @Sendable () async throws -> Void
    /// On the embedded broker, work to do before the worker's sinks join:
    /// a source creates its topics, sized for its tables' backlog. `run`
    /// must do it too when it was not done (a real broker runs no `prepare`).
    public var prepare: (@Sendable () async throws -> Void)?

    /// A connector; see ``prepare`` for when `prepare` runs.
    public init(
        name: String, role: Role, throughput: Throughput,
        prepare: (@Sendable () async throws -> Void)? = nil, run: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.role = role
        self.throughput = throughput
        self.prepare = prepare
        self.run = run
    }
}
