import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// The whole sink: an embedded Kafka cluster, a consumer group, moto.
final class S3SinkConnectorTests: XCTestCase {
    /// Consumer settings that suit the embedded broker (see DESIGN.md).
    static let consumerProperties = ["session.timeout.ms": "6000"]

    func testArchivesATopicAndCommitsWhatIsUploaded() async throws {
        let env = try S3TestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("P_USERS", partitions: 3)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        var messages: [KafkaMessage] = []
        for partition in Int32(0)..<3 {
            messages += SinkFixtures.messages(topic: "P_USERS", partition: partition, offsets: 0..<200)
                .map { message in
                    var copy = message
                    copy.offset = -1
                    return copy
                }
        }
        _ = try await producer.send(messages)
        await producer.close()

        var config = env.sinkConfig(flushSize: 50)
        config.name = "s3-\(UUID().uuidString.prefix(8))"
        let sink = try S3SinkConnector(config: config, kafka: kafka.with(Self.consumerProperties))
        let running = Task { try await sink.run() }
        let deadline = Date().addingTimeInterval(90)
        while sink.statistics.objectsUploaded < 12 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        running.cancel()
        try await running.value

        let client = try env.client()
        let objects = try await env.objects(under: config.naming.topicsDir + "/", client: client)
        XCTAssertEqual(objects.count, 12)
        for partition in 0..<3 {
            let keys = objects.keys.filter { $0.contains("/partition=\(partition)/") }.sorted()
            XCTAssertEqual(
                keys.map { String($0.suffix(16)) },
                (0..<4).map { "+\(ObjectNaming.zeroPadded(Int64($0 * 50), width: 10)).json" }, "partition \(partition)")
            XCTAssertEqual(keys.flatMap { lines(objects[$0]!) }, (0..<200).map { SinkFixtures.line(id: Int64($0)) })
        }

        // The group's committed offsets are exactly what was uploaded.
        let checker = try KafkaConsumer(
            configuration: kafka.with(Self.consumerProperties), groupID: config.groupID, topics: ["P_USERS"])
        let committed = try await checker.committed((0..<3).map { TopicPartition("P_USERS", $0) })
        await checker.close()
        XCTAssertEqual(committed, Dictionary(uniqueKeysWithValues: (0..<3).map { (TopicPartition("P_USERS", $0), Int64(200)) }))
    }
}
