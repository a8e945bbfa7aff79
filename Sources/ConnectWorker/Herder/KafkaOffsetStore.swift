import Logging
import PipelineCore
import PostgresSource

/// Source offsets in Connect's `offset.storage.topic` (distributed mode),
/// as KafkaOffsetBackingStore keeps them: key
/// `["CONNECTOR",{"table":"public.USERS"}]`, value the offset
/// (`{"incrementing":42}`), a tombstone for a removed one.
///
/// The whole topic is read once at start; after that this worker is its
/// only writer (one worker per group), so the copy in memory is the topic.
/// A store returns once the broker acknowledged the records.
public final class KafkaOffsetStore: WorkerOffsetStore {
    private let topic: InternalTopic
    private let offsets = Locked<[String: JSON]>([:])
    /// Read-change-write of ``alter(_:)`` runs one at a time, in call order.
    private let changes = Locked(OperationChain())

    private init(topic: InternalTopic) {
        self.topic = topic
    }

    /// Opens `topic` and reads every offset in it; records of partition
    /// shapes no source here writes are left alone (and logged).
    static func load(_ topic: InternalTopic, logger: Logger) async throws -> KafkaOffsetStore {
        let store = KafkaOffsetStore(topic: topic)
        var loaded: [String: JSON] = [:]
        for message in try await topic.readAll() {
            guard let keyBytes = message.key, let key = try? JSON.parse(keyBytes),
                let local = ConnectTopicFormats.localOffsetKey(key)
            else {
                logger.debug("offset topic: record \(message.position) is not a source partition of this worker; left alone")
                continue
            }
            guard let value = message.value else {
                loaded[local] = nil
                continue
            }
            do {
                loaded[local] = try JSON.parse(value)
            } catch {
                throw PipelineError.other("offset topic: record \(message.position) (\(local)) is not JSON: \(error)")
            }
        }
        store.offsets.withLock { $0 = loaded }
        return store
    }

    public func offset(for partition: String) async throws -> JSON? {
        offsets.value[partition]
    }

    public func store(_ offsets: [String: JSON]) async throws {
        try await alter { $0.merge(offsets) { _, new in new } }
    }

    public func all() async throws -> [String: JSON] { offsets.value }

    public func alter(_ change: @escaping @Sendable (inout [String: JSON]) -> Void) async throws {
        let offsets = self.offsets, topic = self.topic
        let task = changes.withLock { chain in
            chain.enqueue("offsets") {
                let before = offsets.value
                var after = before
                change(&after)
                var records: [(key: [UInt8], value: [UInt8]?)] = []
                for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
                    guard let topicKey = ConnectTopicFormats.offsetKey(key) else {
                        throw PipelineError.other("offset key '\(key)' names no connector (expected CONNECTOR/PARTITION)")
                    }
                    records.append((topicKey.serialized(), after[key]?.serialized()))
                }
                try await topic.write(records)
                offsets.withLock { $0 = after }
            }
        }
        try await task.value
    }
}
