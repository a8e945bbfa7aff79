import Foundation
import PipelineCore
import TestSupport

/// The Kafka topic between the source and the sinks: how many records the
/// source has put there, per partition.
struct TopicReader: Sendable {
    let admin: KafkaAdmin
    let topic: String
    let bootstrapServers: String

    init(environment: E2EEnvironment, topic: String) throws {
        bootstrapServers = environment.bootstrapServers
        admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: bootstrapServers))
        self.topic = topic
    }

    /// Creates the topic with `partitions` partitions through the embedded
    /// broker's control FIFO and waits until the cluster lists it.
    func create(partitions: Int, control: String) async throws {
        try await BrokerControl.createTopic(topic, partitions: partitions, bootstrapServers: bootstrapServers, control: control)
    }

    /// Low and high watermarks by partition; empty until the source created the topic.
    /// (Watermarks are only asked for once the topic exists: asking first
    /// could auto-create it, unlike what the seed's setup does.)
    func watermarks() async throws -> [Int32: (low: Int64, high: Int64)] {
        guard let info = try await admin.topics().first(where: { $0.name == topic }) else { return [:] }
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in info.partitions {
            marks[partition.partition] = try await admin.watermarks(TopicPartition(topic, partition.partition))
        }
        return marks
    }

    /// Records the source has written (the brokers' high watermarks summed).
    func recordCount() async throws -> Int64 {
        try await watermarks().values.reduce(0) { $0 + $1.high }
    }
}
