import Foundation
import PipelineCore

/// The Kafka topic between the source and the sinks: how many records the
/// source has put there, per partition.
struct TopicReader: Sendable {
    let admin: KafkaAdmin
    let topic: String

    init(environment: E2EEnvironment, topic: String) throws {
        admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: environment.bootstrapServers))
        self.topic = topic
    }

    /// Creates the topic with `partitions` partitions through the embedded
    /// broker's control FIFO and waits until the cluster lists it.
    func create(partitions: Int, control: String) async throws {
        guard let fifo = FileHandle(forWritingAtPath: control) else {
            throw E2EFailure("cannot open the broker control FIFO \(control) (TRIBUTARY_BROKER_CONTROL)")
        }
        // One short write: atomic on a FIFO, whoever else writes commands.
        fifo.write(Data("create \(topic) \(partitions)\n".utf8))
        try fifo.close()
        let deadline = Date().addingTimeInterval(20)
        while try await admin.topics().first(where: { $0.name == topic })?.partitions.count != partitions {
            guard Date() < deadline else {
                throw E2EFailure("topic \(topic) with \(partitions) partitions did not appear; see the broker's log (kafka.log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
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
