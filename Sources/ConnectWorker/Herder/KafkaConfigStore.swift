import PipelineCore

/// Connector configs and target states in Connect's `config.storage.topic`
/// (distributed mode), in Connect's own record formats
/// (``ConnectTopicFormats``): a Connect cluster reading the topic finds the
/// same connectors, and a restarted worker rebuilds them from it.
///
/// A save writes only what changed since the last one (the herder saves
/// whole snapshots, one after another), and returns once the broker has it.
public final class KafkaConfigStore: ConfigStore {
    private let topic: InternalTopic
    /// The state last written or read: what the topic holds.
    private let written = Locked<[String: StoredConnector]>([:])

    init(topic: InternalTopic) {
        self.topic = topic
    }

    public var location: String { "topic \(topic.name)" }

    public func load() async throws -> [String: StoredConnector] {
        let records = try await topic.readAll().compactMap { message -> ConnectTopicFormats.Record? in
            guard let key = message.key else { return nil }
            let value = try message.value.map { bytes in
                do {
                    return try JSON.parse(bytes)
                } catch {
                    throw PipelineError.other("config topic: record \(message.position) is not JSON: \(error)")
                }
            }
            return ConnectTopicFormats.Record(key: String(decoding: key, as: UTF8.self), value: value)
        }
        let connectors = try ConnectTopicFormats.connectors(from: records, topic: topic.name)
        written.withLock { $0 = connectors }
        return connectors
    }

    public func save(_ connectors: [String: StoredConnector]) async throws {
        let changes = ConnectTopicFormats.configChanges(from: written.value, to: connectors)
        try await topic.write(changes.map { (Array($0.key.utf8), $0.value?.serialized()) })
        written.withLock { $0 = connectors }
    }
}
