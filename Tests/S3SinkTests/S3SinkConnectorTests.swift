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

    func testBadRecordsGoToTheDeadLetterTopic() async throws {
        let env = try S3TestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("P_USERS", partitions: 1)
        try cluster.createTopic("dlq", partitions: 1)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        var messages = SinkFixtures.messages(topic: "P_USERS", offsets: 0..<4).map { message in
            var copy = message
            copy.offset = -1
            return copy
        }
        messages[2].value = Array("{not json".utf8)
        _ = try await producer.send(messages)
        await producer.close()

        let name = "s3-dlq-\(UUID().uuidString.prefix(8))"
        var properties = [
            "name": name, "topics": "P_USERS", "s3.bucket.name": env.bucket, "s3.region": env.region,
            "store.url": env.endpoint, "flush.size": "3",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq",
        ]
        properties["topics.dir"] = String(S3TestEnvironment.uniquePrefix().dropLast())
        let sink = try S3SinkConnector(properties: properties, kafka: kafka.with(Self.consumerProperties))
        let running = Task { try await sink.run() }
        let deadline = Date().addingTimeInterval(60)
        while sink.statistics.commits < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        running.cancel()
        try await running.value
        XCTAssertEqual(sink.statistics.recordsSkipped, 1)

        let client = try env.client()
        let objects = try await env.objects(under: properties["topics.dir"]! + "/", client: client)
        XCTAssertEqual(objects.values.flatMap { lines($0) }, [0, 1, 3].map { SinkFixtures.line(id: $0) })
        let reader = try KafkaConsumer(
            configuration: kafka.with(Self.consumerProperties), groupID: "dlq-reader-\(UUID().uuidString.prefix(8))",
            topics: ["dlq"])
        var dead: [KafkaMessage] = []
        let readDeadline = Date().addingTimeInterval(30)
        while dead.isEmpty && Date() < readDeadline {
            dead += try await reader.poll(maxMessages: 10, timeout: .milliseconds(500))
        }
        await reader.close()
        XCTAssertEqual(dead.count, 1)
        XCTAssertEqual(dead.first?.value, Array("{not json".utf8))
        let headers = Dictionary(
            (dead.first?.headers ?? []).map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) },
            uniquingKeysWith: { _, last in last })
        XCTAssertEqual(headers["__connect.errors.offset"], "2")
        XCTAssertEqual(headers["__connect.errors.connector.name"], name)
    }

    func testTwoSinksInOneGroupShareTheWorkAcrossARebalance() async throws {
        let env = try S3TestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("P_USERS", partitions: 4)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        var config = env.sinkConfig(flushSize: 100)
        config.name = "s3-pair-\(UUID().uuidString.prefix(8))"

        func send(_ ids: Range<Int64>) async throws {
            _ = try await producer.send(
                ids.map { id in
                    KafkaMessage(
                        topic: "P_USERS", partition: Int32(id % 4), key: nil,
                        value: try! JsonConverter().encode(SinkFixtures.value(id: id)))
                })
        }
        try await send(0..<1000)
        let first = try S3SinkConnector(config: config, kafka: kafka.with(Self.consumerProperties))
        let firstRun = Task { try await first.run() }
        // Once the first sink is busy, a second joins: partitions move, and
        // the files the first one had open for them are dropped, not uploaded.
        while first.statistics.recordsWritten < 250 { try await Task.sleep(for: .milliseconds(50)) }
        let second = try S3SinkConnector(config: config, kafka: kafka.with(Self.consumerProperties))
        let secondRun = Task { try await second.run() }
        try await send(1000..<2000)
        await producer.close()

        let client = try env.client()
        let prefix = config.naming.topicsDir + "/"
        let deadline = Date().addingTimeInterval(90)
        var objects: [String: [UInt8]] = [:]
        repeat {
            try await Task.sleep(for: .seconds(1))
            objects = try await env.objects(under: prefix, client: client)
        } while objects.count < 20 && Date() < deadline
        firstRun.cancel()
        secondRun.cancel()
        try await firstRun.value
        try await secondRun.value

        let layout = objects.keys.sorted().map { key in
            let ids = lines(objects[key]!).map { $0.split(separator: ",")[0] }
            return "\(key.split(separator: "/").suffix(2).joined(separator: "/")): \(ids.count) from \(ids.first ?? "-") to \(ids.last ?? "-")"
        }
        XCTAssertEqual(objects.count, 20, "500 records per partition in files of 100:\n" + layout.joined(separator: "\n"))
        let written = objects.values.flatMap { lines($0) }
        XCTAssertEqual(written.count, 2000)
        XCTAssertEqual(Set(written), Set((0..<2000).map { SinkFixtures.line(id: Int64($0)) }))
        XCTAssertGreaterThan(second.statistics.recordsWritten, 0, "the second sink got partitions")
    }
}
