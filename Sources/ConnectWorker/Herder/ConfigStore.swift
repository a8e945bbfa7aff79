/// Where a worker keeps its connectors' configs and target states, so a
/// restarted worker brings back the same connectors in the same states.
/// Implementations: ``FileConfigStore`` (standalone, one JSON file) and
/// ``KafkaConfigStore`` (distributed, Connect's `config.storage.topic`).
public protocol ConfigStore: Sendable {
    /// Where the state lives, for log lines and errors (a path or a topic).
    var location: String { get }
    /// Every stored connector; an empty store holds none.
    func load() async throws -> [String: StoredConnector]
    /// Replaces the stored state with `connectors`, durably, before returning.
    func save(_ connectors: [String: StoredConnector]) async throws
}

/// A connector as the config store keeps it: its config as given (with
/// `${env:…}`/`${file:…}` placeholders unresolved) and its target state.
public struct StoredConnector: Sendable, Equatable {
    public var config: [String: String]
    public var target: TargetState

    public init(config: [String: String], target: TargetState) {
        self.config = config
        self.target = target
    }
}

