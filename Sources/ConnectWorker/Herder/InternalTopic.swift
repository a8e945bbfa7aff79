import PipelineCore

/// One of a distributed worker's internal topics (configs, offsets,
/// statuses): created compacted, read whole at start, written with the
/// idempotent acks=all producer, so a write returned is a write kept.
/// Every librdkafka call runs on the Kafka clients' own threads.
final class InternalTopic: Sendable {
    let name: String
    /// The worker file key naming the topic, for errors.
    let key: String
    private let configuration: KafkaConfiguration
    private let admin: KafkaAdmin
    private let producer: KafkaProducer

    private init(name: String, key: String, configuration: KafkaConfiguration, admin: KafkaAdmin, producer: KafkaProducer) {
        self.name = name
        self.key = key
        self.configuration = configuration
        self.admin = admin
        self.producer = producer
    }

    /// Creates the topic if it is missing (`cleanup.policy=compact`,
    /// `partitions` partitions) and opens it. `singlePartition`: the topic
    /// must have exactly one partition, as Connect requires of the config
    /// topic (its records are applied in order); a topic with more is refused.
    /// `admin` is shared by the worker's topics: a broker without the
    /// CreateTopics API is then waited for once.
    static func open(
        _ name: String, key: String, partitions: Int, singlePartition: Bool = false, replicationFactor: Int = -1,
        configuration: KafkaConfiguration, admin: KafkaAdmin, producer: KafkaProducer
    ) async throws -> InternalTopic {
        if try await !admin.topics().contains(where: { $0.name == name }) {
            try await admin.createTopic(
                name, partitions: partitions, replicationFactor: replicationFactor, config: ["cleanup.policy": "compact"])
        }
        let count = try await admin.topics().first { $0.name == name }?.partitions.count ?? 0
        guard count > 0 else { throw PipelineError.config(key: key, reason: "topic \(name) could not be created") }
        if singlePartition && count != 1 {
            throw PipelineError.config(
                key: key,
                reason: "topic \(name) has \(count) partitions; the config topic must have exactly 1 "
                    + "(create it first: kafka-topics --create --topic \(name) --partitions 1 --config cleanup.policy=compact, "
                    + "or `create \(name) 1` on tributary broker's control FIFO)")
        }
        return InternalTopic(name: name, key: key, configuration: configuration, admin: admin, producer: producer)
    }

    /// Every record now in the topic, in offset order per partition
    /// (partitions one after another).
    func readAll() async throws -> [KafkaMessage] {
        let partitions = try await admin.topics().first { $0.name == name }?.partitions ?? []
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, marks) in try await admin.watermarks(topic: name, partitions: partitions.map(\.partition)) {
            ranges[TopicPartition(name, partition)] = marks.low..<marks.high
        }
        let messages = try await KafkaRangeReader.read(configuration: configuration, ranges: ranges)
        return messages.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    /// Writes `records` (a nil value is a tombstone) in order and returns
    /// once the broker acknowledged them all; records with one key share a
    /// partition (murmur2 of the key, as Connect's producer picks it), so
    /// their order is kept.
    func write(_ records: [(key: [UInt8], value: [UInt8]?)]) async throws {
        guard !records.isEmpty else { return }
        _ = try await producer.send(records.map { KafkaMessage(topic: name, key: $0.key, value: $0.value) })
    }
}
