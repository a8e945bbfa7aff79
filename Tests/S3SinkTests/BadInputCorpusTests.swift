import Foundation
import Logging
import PipelineCore
import TestSupport
import XCTest

@testable import S3Sink

/// Bad records on the topic, each between two good ones, through the real
/// S3 (moto) and broker: with `errors.tolerance=none` the sink stops naming
/// `topic-partition@offset` and commits nothing past it; with `all` the
/// record goes to the dead-letter topic with Connect's headers, or is
/// skipped with a log line naming it, and the good records land.
final class BadInputCorpusTests: XCTestCase {
    struct Case {
        var name: String
        /// The bad record's value bytes (offset 1).
        var value: [UInt8]?
        /// In the error (and the dead letter's exception message).
        var reason: String
        var configure: @Sendable (inout S3SinkConfig) -> Void = { _ in }
        /// The value's schema is on (`value.converter.schemas.enable`).
        var schemas = true
    }

    /// A USERS envelope (as the source writes it) around `payload`.
    static func user(_ payload: String) -> [UInt8] { user(bytes: Array(payload.utf8)) }

    static func user(bytes payload: [UInt8], createdType: String = #""type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1"#) -> [UInt8] {
        Array(#"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":false,"field":"name"},{"type":"string","optional":false,"field":"region"},{"#.utf8)
            + Array(createdType.utf8) + Array(#","field":"created"}],"optional":false,"name":"USERS"},"payload":"#.utf8) + payload + Array("}".utf8)
    }

    static func userWithName(_ nameBytes: [UInt8]) -> [UInt8] {
        user(bytes: Array(#"{"id":1,"name":""#.utf8) + nameBytes + Array(#"","region":"eu","created":1}"#.utf8))
    }

    static let timeBased: @Sendable (inout S3SinkConfig) -> Void = {
        $0.partitioner = .timeBased(pathFormat: "'year'=YYYY", durationMilliseconds: 3_600_000, extractor: .recordField("created"))
        $0.timeZone = "UTC"
    }

    static let cases: [Case] = [
        Case(name: "value not JSON", value: Array("not json".utf8), reason: "invalid JSON"),
        Case(name: "truncated envelope", value: Array(#"{"schema":{"type":"int32"#.utf8), reason: "invalid JSON"),
        Case(name: "invalid UTF-8 in a string (ff fe c0)", value: userWithName([0xFF, 0xFE, 0xC0]), reason: "invalid UTF-8"),
        Case(name: "invalid UTF-8, schemaless", value: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC0, 0xAF, 0x22, 0x7D], reason: "invalid UTF-8",
             schemas: false),
        Case(name: "no envelope", value: Array(#"{"id":1}"#.utf8), reason: "schemas.enable"),
        Case(name: "string for int64", value: user(#"{"id":"1","name":"x","region":"eu","created":1}"#), reason: "payload.id"),
        Case(name: "missing required field", value: user(#"{"id":1,"region":"eu","created":1}"#), reason: "payload.name"),
        Case(name: "unknown schema type", value: Array(#"{"schema":{"type":"uint8"},"payload":1}"#.utf8), reason: "schema"),
        Case(name: "FieldPartitioner: field missing", value: user(#"{"id":1,"name":"x","region":"eu","created":1}"#).replacingRegion(),
             reason: "no field 'region'", configure: { $0.partitioner = .field(["region"]) }),
        Case(name: "TimeBasedPartitioner: time field is text",
             value: user(bytes: Array(#"{"id":1,"name":"x","region":"eu","created":"yesterday"}"#.utf8), createdType: #""type":"string","optional":false"#),
             reason: "not an ISO 8601 time", configure: timeBased),
        Case(name: "TimeBasedPartitioner: time is a boolean",
             value: user(bytes: Array(#"{"id":1,"name":"x","region":"eu","created":true}"#.utf8), createdType: #""type":"boolean","optional":false"#),
             reason: "not a time", configure: timeBased),
        Case(name: "TimeBasedPartitioner: time Int64.max", value: user(#"{"id":1,"name":"x","region":"eu","created":9223372036854775807}"#),
             reason: "P-0@1", configure: timeBased),
        Case(name: "TimeBasedPartitioner: time Int64.min", value: user(#"{"id":1,"name":"x","region":"eu","created":-9223372036854775808}"#),
             reason: "P-0@1", configure: timeBased),
    ]

    static func messages(_ c: Case) -> [KafkaMessage] {
        var messages = SinkFixtures.messages(topic: "P", offsets: 0..<3, schemas: c.schemas)
        messages[1].value = c.value
        return messages
    }

    func config(_ env: S3TestEnvironment, _ c: Case, index: Int, tolerance: Bool, dlq: String? = nil) -> S3SinkConfig {
        var config = env.sinkConfig(topic: "P", flushSize: 2)
        config.naming.topicsDir += "/case\(index)-\(tolerance)-\(dlq != nil)"
        config.valueSchemasEnabled = c.schemas
        config.toleratesErrors = tolerance
        config.deadLetterTopic = dlq
        c.configure(&config)
        return config
    }

    func testToleranceNoneStopsNamingTheRecordAndCommitsNothingPastIt() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        for (index, c) in Self.cases.enumerated() {
            let config = config(env, c, index: index, tolerance: false)
            let log = CommitLog()
            let task = try S3SinkTask(config: config, client: client, commit: log.committer)
            do {
                try await task.put(Self.messages(c))
                XCTFail("\(c.name): the bad record was written")
            } catch {
                XCTAssertTrue("\(error)".contains("P-0@1"), "\(c.name): \(error)")
                XCTAssertTrue("\(error)".contains(c.reason), "\(c.name): \(error)")
            }
            XCTAssertLessThanOrEqual(log.last[TopicPartition("P", 0)] ?? 0, 1, c.name)
            await task.close()
        }
    }

    func testToleranceAllWithoutADeadLetterTopicLogsEverySkip() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        for (index, c) in Self.cases.enumerated() {
            let config = config(env, c, index: index, tolerance: true)
            let log = CommitLog()
            let logs = CapturedLogs()
            let task = try S3SinkTask(config: config, client: client, commit: log.committer, logger: logs.logger)
            try await task.put(Self.messages(c))
            XCTAssertEqual(log.last, [TopicPartition("P", 0): 3], c.name)
            try await assertGoodRecordsLanded(env, client, config, c.name)
            XCTAssertEqual(task.statistics.recordsSkipped, 1, c.name)
            let lines = logs.lines.filter { $0.contains("at=P-0@1") }
            XCTAssertEqual(lines.count, 1, "\(c.name): \(logs.lines)")
            XCTAssertTrue(lines.first?.contains("skipped") == true && lines.first?.contains(c.reason) == true, "\(c.name): \(lines)")
        }
    }

    func testToleranceAllSendsEachBadRecordToTheDeadLetterTopicWithConnectHeaders() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let kafka = try KafkaConfiguration(bootstrapServers: XCTUnwrap(ProcessInfo.processInfo.environment["TRIBUTARY_BOOTSTRAP"]))
        let dlqTopic = "s3-dlq-\(UUID().uuidString.prefix(8))"
        let producer = try KafkaProducer(configuration: kafka)
        for (index, c) in Self.cases.enumerated() {
            let config = config(env, c, index: index, tolerance: true, dlq: dlqTopic)
            let queue = DeadLetterQueue(topic: dlqTopic, connectorName: "case\(index)", producer: producer)
            let logs = CapturedLogs()
            let task = try S3SinkTask(
                config: config, client: client, commit: CommitLog().committer,
                deadLetters: { failures in try await queue.send(failures, stage: "VALUE_CONVERTER") }, logger: logs.logger)
            try await task.put(Self.messages(c))
            try await assertGoodRecordsLanded(env, client, config, c.name)
            XCTAssertEqual(logs.lines.filter { $0.contains("dead-letter") && $0.contains("at=P-0@1") }.count, 1, "\(c.name): \(logs.lines)")
        }
        await producer.close()
        let consumer = try KafkaConsumer(
            configuration: kafka.with(["session.timeout.ms": "6000", "auto.offset.reset": "earliest"]),
            groupID: "corpus-\(UUID().uuidString.prefix(8))", topics: [dlqTopic])
        var letters: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while letters.count < Self.cases.count && Date() < deadline {
            letters += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
        }
        await consumer.close()
        XCTAssertEqual(letters.count, Self.cases.count)
        for (index, c) in Self.cases.enumerated() {
            guard let letter = letters.first(where: { header($0, "__connect.errors.connector.name") == "case\(index)" }) else {
                XCTFail("\(c.name): no dead letter")
                continue
            }
            XCTAssertEqual(letter.value, c.value, c.name)
            XCTAssertEqual(letter.key, Self.messages(c)[1].key, c.name)
            XCTAssertEqual(header(letter, "__connect.errors.topic"), "P", c.name)
            XCTAssertEqual(header(letter, "__connect.errors.partition"), "0", c.name)
            XCTAssertEqual(header(letter, "__connect.errors.offset"), "1", c.name)
            XCTAssertEqual(header(letter, "__connect.errors.stage"), "VALUE_CONVERTER", c.name)
            XCTAssertTrue(header(letter, "__connect.errors.exception.message")?.contains(c.reason) == true, c.name)
        }
    }

    /// Records that look bad but are not the sink's business arrive unchanged.
    func testBytesTheSinkDoesNotInterpretArriveUnchanged() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        // ByteArrayFormat copies values: invalid UTF-8 is just bytes there.
        var config = env.sinkConfig(topic: "P", flushSize: 3)
        config.format = .byteArray(separator: [0x0A], fileExtension: ".bin")
        config.valueSchemasEnabled = false
        let raw: [[UInt8]] = [Array("a".utf8), [0xFF, 0xFE, 0xC0], Array("c".utf8)]
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        try await task.put(raw.enumerated().map { KafkaMessage(topic: "P", partition: 0, offset: Int64($0), key: [0xFF], value: $1) })
        let objects = try await env.objects(under: config.naming.topicsDir + "/", client: client)
        XCTAssertEqual(Array(objects.values), [raw.flatMap { $0 + [0x0A] }])
        // The S3 sink never reads keys: a key that is not JSON is no error.
        let json = env.sinkConfig(topic: "P", flushSize: 3)
        var messages = SinkFixtures.messages(topic: "P", offsets: 0..<3)
        messages[1].key = Array("{not json".utf8)
        let keyed = try S3SinkTask(config: json, client: client, commit: CommitLog().committer)
        try await keyed.put(messages)
        let written = try await env.objects(under: json.naming.topicsDir + "/", client: client)
        XCTAssertEqual(written.values.flatMap { lines($0) }, (0..<3).map { SinkFixtures.line(id: $0) })
    }

    /// The seed's connector JSON carried a Schema Registry key the JsonConverter ignores.
    func testTheSeedConnectorWithASubjectNameStrategyIsAccepted() throws {
        let env = try S3TestEnvironment.load()
        let config = try S3SinkConfig(properties: [
            "name": "s3-sink-users", "connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": "P_USERS",
            "s3.bucket.name": env.bucket, "s3.region": env.region, "store.url": env.endpoint, "flush.size": "5",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
        ])
        XCTAssertEqual(config.ignoredKeyNotices.count, 1)
        XCTAssertTrue(config.ignoredKeyNotices[0].contains("'value.converter.value.subject.name.strategy'"), "\(config.ignoredKeyNotices)")
        XCTAssertThrowsError(try S3SinkConfig(properties: ["topics": "t", "s3.bucket.name": "b", "flush.size": "2147483648", "format.class": "io.confluent.connect.s3.format.json.JsonFormat"])) { error in
            XCTAssertTrue("\(error)".contains("'flush.size'") && "\(error)".contains("out of range"), "\(error)")
        }
    }

    /// The connector names each ignored key once, in a notice.
    func testTheConnectorLogsEachIgnoredKeyOnce() throws {
        let env = try S3TestEnvironment.load()
        let logs = CapturedLogs()
        _ = try S3SinkConnector(
            properties: [
                "name": "noop", "topics": "P_USERS", "s3.bucket.name": env.bucket, "s3.region": env.region, "store.url": env.endpoint,
                "flush.size": "5", "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
                "value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
                "key.converter.schema.registry.url": "http://registry:8081",
            ],
            kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: logs.logger)
        let notices = logs.lines.filter { $0.hasPrefix("notice ignoring '") }
        XCTAssertEqual(notices.count, 2, "\(logs.lines)")
        XCTAssertTrue(notices.contains { $0.contains("'key.converter.schema.registry.url'") }, "\(notices)")
    }

    /// Config values outside Confluent's ranges name the key.
    func testOutOfRangeSettingsNameTheKey() {
        let base = ["topics": "t", "s3.bucket.name": "b", "flush.size": "5", "format.class": "io.confluent.connect.s3.format.json.JsonFormat"]
        let cases: [(key: String, value: String, reason: String)] = [
            ("flush.size", "0", "positive"),
            ("flush.size", "-1", "positive"),
            ("flush.size", "2147483648", "out of range"),
            ("filename.offset.zero.pad.width", "2000000000", "between 0 and 1024"),
            ("filename.offset.zero.pad.width", "-1", "between 0 and 1024"),
            ("s3.part.size", "1024", "between 5242880"),
            ("s3.part.retries", "-1", "at least 0"),
            ("s3.retry.backoff.ms", "-5", "at least 0"),
            ("s3.compression.level", "10", "between -1 and 9"),
            ("s3.compression.level", "-2", "at least -1"),
            ("s3.compression.type", "zstd", "use one of"),
            ("format.class", "io.confluent.connect.s3.format.avro.AvroFormat", "not supported"),
            ("partitioner.class", "io.confluent.connect.storage.partitioner.FieldPartitioner", "partition.field.name"),
            ("timestamp.extractor", "Kafka", "use one of"),
        ]
        for c in cases {
            XCTAssertThrowsError(try S3SinkConfig(properties: base.merging([c.key: c.value]) { _, new in new }), "\(c.key)=\(c.value)") { error in
                XCTAssertTrue("\(error)".contains(c.reason), "\(c.key)=\(c.value): \(error)")
                XCTAssertTrue("\(error)".contains("'\(c.key == "partitioner.class" ? "partition.field.name" : c.key)'"), "\(c.key)=\(c.value): \(error)")
            }
        }
    }

    private func assertGoodRecordsLanded(_ env: S3TestEnvironment, _ client: S3Client, _ config: S3SinkConfig, _ name: String) async throws {
        let objects = try await env.objects(under: config.naming.topicsDir + "/", client: client)
        let ids = objects.values.flatMap { lines($0) }.compactMap { line -> Int64? in
            guard case .int(let id)? = try? JSON.parse(line)["id"] else { return nil }
            return id
        }
        XCTAssertEqual(ids.sorted(), [0, 2], "\(name): \(objects.keys.sorted())")
    }

    private func header(_ message: KafkaMessage, _ key: String) -> String? {
        message.headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array where Element == UInt8 {
    /// The user envelope with its `region` field renamed (so it has no `region`).
    fileprivate func replacingRegion() -> [UInt8] {
        Array(String(decoding: self, as: UTF8.self).replacingOccurrences(of: "\"region\"", with: "\"zone\"").utf8)
    }
}
