/// One connector as a ``Worker`` runs it: its tasks on the runtime, with
/// what the worker needs to order, watch and stop them.
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
    /// Records handled by all its tasks, for progress lines.
    public var throughput: Throughput
    /// Decides the connector's tasks when it starts (`tasks.max` and what
    /// there is to share: a sink's partitions, a source's tables). Each
    /// runs until cancelled (the graceful stop: finish the batch in hand,
    /// commit, return) or until it fails.
    public var tasks: @Sendable () async throws -> [WorkerTask]
    /// Runs the connector until cancelled or until it fails: by default
    /// every task of ``tasks`` at once, the first failure stopping the others.
    public var run: @Sendable () async throws -> Void
    /// On the embedded broker, work to do before the worker's sinks join:
    /// a source creates its topics, sized for its tables' backlog. `run`
    /// must do it too when it was not done (a real broker runs no `prepare`).
    public var prepare: (@Sendable () async throws -> Void)?

    /// A connector with one task, `run`; see ``prepare`` for when `prepare` runs.
    public init(
        name: String, role: Role, throughput: Throughput,
        prepare: (@Sendable () async throws -> Void)? = nil, run: @escaping @Sendable () async throws -> Void
    ) {
        self.init(name: name, role: role, throughput: throughput, prepare: prepare) { [WorkerTask(id: 0, run: run)] }
    }

    /// A connector whose tasks `tasks` decides when it starts.
    public init(
        name: String, role: Role, throughput: Throughput,
        prepare: (@Sendable () async throws -> Void)? = nil, tasks: @escaping @Sendable () async throws -> [WorkerTask]
    ) {
        self.name = name
        self.role = role
        self.throughput = throughput
        self.prepare = prepare
        self.tasks = tasks
        self.run = { try await WorkerTask.runTogether(try await tasks()) }
    }
}

/// One task of a ``WorkerConnector`` (Connect's task): its number and its run.
public struct WorkerTask: Sendable {
    /// 0 ..< the connector's task count.
    public var id: Int
    /// Runs until cancelled (the graceful stop) or until it fails.
    public var run: @Sendable () async throws -> Void

    public init(id: Int, run: @escaping @Sendable () async throws -> Void) {
        self.id = id
        self.run = run
    }

    /// Runs `tasks` at once until all return; the first to fail cancels the
    /// others (each stops gracefully) and its error is thrown.
    public static func runTogether(_ tasks: [WorkerTask]) async throws {
        if tasks.count == 1 { return try await tasks[0].run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in tasks { group.addTask { try await task.run() } }
            do {
                try await group.waitForAll()
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// How many tasks share `items` (partitions, tables) under `tasks.max`:
    /// never more tasks than items, at least one.
    public static func count(tasksMax: Int, items: Int) -> Int { max(1, min(tasksMax, items)) }

    /// `items` split into `count` contiguous groups in order, the first
    /// ones one larger when they do not divide evenly, as Connect's
    /// `ConnectorUtils.groupPartitions` splits a JDBC source's tables.
    public static func share<T>(_ items: [T], among count: Int) -> [[T]] {
        let count = max(1, min(count, items.count))
        let size = items.count / count, larger = items.count % count
        var groups: [[T]] = []
        var start = 0
        for index in 0..<count {
            let end = start + size + (index < larger ? 1 : 0)
            groups.append(Array(items[start..<end]))
            start = end
        }
        return groups
    }
}
