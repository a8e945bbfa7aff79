import Logging
import PipelineCore

/// A distributed worker's three stores on Connect's internal topics,
/// opened (created if missing) and read back before any connector starts,
/// and its hold on the group (``WorkerGroupLease``).
public struct DistributedStores: Sendable {
    public let configs: KafkaConfigStore
    public let offsets: KafkaOffsetStore
    public let statuses: KafkaStatusStore
    public let lease: WorkerGroupLease

    /// Opens the topics `storage` names on `kafka`, then waits for the
    /// group's lease (so what is read next is what the previous holder
    /// left); the offsets are read whole here, the configs when the herder starts.
    public static func open(_ storage: WorkerSettings.DistributedStorage, kafka: KafkaConfiguration, logger: Logger) async throws
        -> DistributedStores
    {
        // Connect's own bound for a write to an internal topic; librdkafka's default is 5 minutes.
        let producer = try KafkaProducer(configuration: kafka.with(["message.timeout.ms": "30000"]), logger: logger)
        let replication = storage.replicationFactor
        let admin = try KafkaAdmin(configuration: kafka)
        let configTopic = try await InternalTopic.open(
            storage.configTopic, key: "config.storage.topic", partitions: 1, singlePartition: true, replicationFactor: replication,
            configuration: kafka, admin: admin, producer: producer)
        let offsetTopic = try await InternalTopic.open(
            storage.offsetTopic, key: "offset.storage.topic", partitions: storage.offsetPartitions, replicationFactor: replication,
            configuration: kafka, admin: admin, producer: producer)
        let statusTopic = try await InternalTopic.open(
            storage.statusTopic, key: "status.storage.topic", partitions: storage.statusPartitions, replicationFactor: replication,
            configuration: kafka, admin: admin, producer: producer)
        let lease = try await WorkerGroupLease.acquire(storage, kafka: kafka, logger: logger)
        do {
            return DistributedStores(
                configs: KafkaConfigStore(topic: configTopic),
                offsets: try await KafkaOffsetStore.load(offsetTopic, logger: logger),
                statuses: KafkaStatusStore(topic: statusTopic, logger: logger), lease: lease)
        } catch {
            await lease.release()
            throw error
        }
    }
}
