import Foundation
import Logging
import PipelineCore

/// The `_schemas` topic: one partition, compacted, written and read with
/// PipelineCore's producer and range reader (their librdkafka calls run on
/// their own threads, never on the cooperative pool).
final class SchemaLog: Sendable {
    let topic: String
    private let configuration: KafkaConfiguration
    private let producer: KafkaProducer
    private let admin: KafkaAdmin
    private let logger: Logger
    private var partition: TopicPartition { TopicPartition(topic, 0) }

    init(configuration: KafkaConfiguration, topic: String, logger: Logger) throws {
        self.topic = topic
        self.configuration = configuration
        self.producer = try KafkaProducer(configuration: configuration, logger: logger)
        self.admin = try KafkaAdmin(configuration: configuration)
        self.logger = logger
    }

    /// Creates the topic (1 partition, compacted) unless it exists. Only
    /// partition 0 is used: a broker that auto-creates topics with more
    /// partitions leaves the others empty.
    func prepare() async throws {
        // Looked up first: a broker without CreateTopics (the mock cluster) makes creating wait out a timeout.
        let existing = try await admin.topics().first { $0.name == topic }?.partitions.count
        let partitions: Int
        if let existing {
            partitions = existing
        } else {
            partitions = try await admin.createTopic(topic, partitions: 1, config: ["cleanup.policy": "compact"])
        }
        if partitions != 1 {
            logger.warning("schema topic \(topic) has \(partitions) partitions; the registry reads and writes partition 0 only")
        }
    }

    /// The next offset to be written.
    func end() async throws -> Int64 {
        try await admin.watermarks(partition).high
    }

    /// Every record from `offset` (clamped to the log start) to the current end, decoded, with the end.
    func read(from offset: Int64) async throws -> (records: [RegistryRecord], end: Int64) {
        let (low, high) = try await admin.watermarks(partition)
        let start = max(offset, low)
        guard start < high else { return ([], high) }
        let messages = try await KafkaRangeReader.read(configuration: configuration, ranges: [partition: start..<high])
        var out: [RegistryRecord] = []
        for message in messages {
            if let record = try RegistryRecord.decode(key: message.key, value: message.value, position: message.position) {
                out.append(record)
            }
        }
        return (out, high)
    }

    /// Writes `records` in order; returns once the broker acknowledged them
    /// all, with the offsets of the first and after the last.
    func append(_ records: [RegistryRecord]) async throws -> Range<Int64> {
        let messages = records.map { record in
            let (key, value) = record.encoded
            return KafkaMessage(topic: topic, partition: 0, key: key, value: value)
        }
        let reports = try await producer.send(messages)
        guard let first = reports.first?.offset, let last = reports.last?.offset else { return 0..<0 }
        return first..<(last + 1)
    }

    func close() async {
        await producer.close()
    }
}
