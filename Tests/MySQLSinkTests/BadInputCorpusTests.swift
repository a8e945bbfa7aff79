import Foundation
import Logging
import MySQLSink
import PipelineCore
import TestSupport
import XCTest

/// Bad records on the topic, each between two good ones, through the real
/// MariaDB and broker: with `errors.tolerance=none` the sink stops naming
/// `topic-partition@offset`; with `all` the record goes to the dead-letter
/// topic with Connect's headers (or is logged as skipped without one), and
/// the good records around it land. Each case reports its own name.
final class BadInputCorpusTests: XCTestCase {
    /// One bad record: what its field `v` is for the good records, what the
    /// bad record is, and what the error must say.
    struct Case {
        var name: String
        var field: Schema
        var good: Value
        var bad: Bad
        var reason: String
        var stage: String
    }

    enum Bad {
        /// A value of the same schema that MySQL cannot store.
        case value(Value)
        /// Raw value bytes.
        case raw([UInt8]?)
        /// Raw key bytes (the value is good).
        case key([UInt8])
    }

    static func envelope(_ schemaJSON: String, payload: [UInt8]) -> [UInt8] {
        Array(#"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},"#.utf8)
            + Array(schemaJSON.utf8) + Array(#"],"optional":false,"name":"row"},"payload":{"id":2,"v":"#.utf8) + payload + Array("}}".utf8)
    }

    static let stringField = #"{"type":"string","optional":true,"field":"v"}"#
    static let timestamp = LogicalType.timestamp(optional: true)
    static let date = LogicalType.date(optional: true)
    static let msPerDay: Int64 = 86_400_000

    static let cases: [Case] = [
        // Values the destination cannot hold (were silently 0000-00-00).
        Case(name: "timestamp in year 10000", field: timestamp, good: .timestamp(1_700_000_000_000), bad: .value(.timestamp(253_402_300_800_000)),
             reason: "outside the DATETIME range", stage: "TASK_PUT"),
        Case(name: "timestamp Int64.max", field: timestamp, good: .timestamp(0), bad: .value(.timestamp(.max)), reason: "outside the DATETIME range", stage: "TASK_PUT"),
        Case(name: "timestamp Int64.min", field: timestamp, good: .timestamp(0), bad: .value(.timestamp(.min)), reason: "outside the DATETIME range", stage: "TASK_PUT"),
        Case(name: "timestamp before year 0", field: timestamp, good: .timestamp(-62_167_219_200_000), bad: .value(.timestamp(-62_167_219_200_001)),
             reason: "outside the DATETIME range", stage: "TASK_PUT"),
        Case(name: "timestamp of Postgres max (294276 AD)", field: timestamp, good: .timestamp(253_402_300_799_999),
             bad: .value(.timestamp(9_224_318_015_999_999)), reason: "outside the DATETIME range", stage: "TASK_PUT"),
        Case(name: "date Int32.max", field: date, good: .date(0), bad: .value(.date(.max)), reason: "outside the DATE range", stage: "TASK_PUT"),
        Case(name: "date Int32.min", field: date, good: .date(0), bad: .value(.date(.min)), reason: "outside the DATE range", stage: "TASK_PUT"),
        Case(name: "date 10000-01-01", field: date, good: .date(2_932_896), bad: .value(.date(2_932_897)), reason: "outside the DATE range", stage: "TASK_PUT"),
        Case(name: "date of Postgres min (4713 BC)", field: date, good: .date(-719_528), bad: .value(.date(-2_440_551)), reason: "outside the DATE range", stage: "TASK_PUT"),
        Case(name: "date of Postgres max (5874897 AD)", field: date, good: .date(-1), bad: .value(.date(2_145_042_905)), reason: "outside the DATE range", stage: "TASK_PUT"),
        // Bytes the converter refuses.
        Case(name: "value not JSON", field: .string.asOptional, good: .string("ok"), bad: .raw(Array("{\"schema\":".utf8)),
             reason: "invalid JSON", stage: "VALUE_CONVERTER"),
        Case(name: "invalid UTF-8 in a string", field: .string.asOptional, good: .string("Zoë"),
             bad: .raw(envelope(stringField, payload: [0x22, 0xFF, 0xFE, 0xC0, 0x22])), reason: "invalid UTF-8", stage: "VALUE_CONVERTER"),
        Case(name: "no envelope", field: .string.asOptional, good: .string("ok"), bad: .raw(Array(#"{"id":2,"v":"x"}"#.utf8)),
             reason: "schemas.enable", stage: "VALUE_CONVERTER"),
        Case(name: "int8 overflow", field: Schema.int8.asOptional, good: .int(7),
             bad: .raw(envelope(#"{"type":"int8","optional":true,"field":"v"}"#, payload: Array("300".utf8))), reason: "payload.v", stage: "VALUE_CONVERTER"),
        Case(name: "string where the schema says int64", field: Schema.int64.asOptional, good: .int(7),
             bad: .raw(envelope(#"{"type":"int64","optional":true,"field":"v"}"#, payload: Array(#""7""#.utf8))), reason: "payload.v", stage: "VALUE_CONVERTER"),
        Case(name: "key not JSON", field: .string.asOptional, good: .string("ok"), bad: .key(Array("{".utf8)), reason: "key:", stage: "KEY_CONVERTER"),
        // Records the sink cannot apply.
        Case(name: "primitive value", field: .string.asOptional, good: .string("ok"),
             bad: .raw(Array(#"{"schema":{"type":"string","optional":false},"payload":"x"}"#.utf8)), reason: "must be a Struct", stage: "TASK_PUT"),
        Case(name: "tombstone with delete.enabled=false", field: .string.asOptional, good: .string("ok"), bad: .raw(nil), reason: "tombstone", stage: "TASK_PUT"),
    ]

    private var env: MySQLTestEnvironment!
    private var database = ""
    private var options: MySQLConnectionOptions!
    private var check: MySQLConnection!

    private func prepare() async throws {
        env = try MySQLTestEnvironment.load()
        (database, options) = try await env.freshDatabase(name)
        check = MySQLConnection(options: options)
    }

    override func tearDown() async throws {
        await check?.close()
        if !database.isEmpty { await env.dropDatabase(database) }
    }

    /// Good, bad, good on `topic` partition 0, offsets 0-2.
    static func messages(_ c: Case, topic: String) -> [KafkaMessage] {
        let converter = JsonConverter(schemasEnabled: true)
        let schema = Schema.struct("row", [Field("id", .int64), Field("v", c.field)])
        func row(_ id: Int64, _ v: Value) -> [UInt8]? {
            try! converter.encode(SchemaAndValue(schema: schema, value: .struct([NamedValue("id", .int(id)), NamedValue("v", v)])))
        }
        var bad = KafkaMessage(topic: topic, partition: 0, offset: 1, key: nil, value: row(2, c.good))
        switch c.bad {
        case .value(let v): bad.value = row(2, v)
        case .raw(let bytes): bad.value = bytes
        case .key(let bytes): bad.key = bytes
        }
        return [KafkaMessage(topic: topic, partition: 0, offset: 0, key: nil, value: row(1, c.good)), bad,
                KafkaMessage(topic: topic, partition: 0, offset: 2, key: nil, value: row(3, c.good))]
    }

    static func topic(_ index: Int) -> String { "bad\(index)" }

    func testToleranceNoneStopsNamingTheRecord() async throws {
        try await prepare()
        for (index, c) in Self.cases.enumerated() {
            let topic = Self.topic(index)
            let writer = MySQLRecordWriter(config: Fixtures.config(options, topics: [topic]))
            do {
                _ = try await writer.write(Self.messages(c, topic: topic))
                XCTFail("\(c.name): the bad record was written")
            } catch {
                XCTAssertTrue("\(error)".contains("\(topic)-0@1"), "\(c.name): \(error)")
                XCTAssertTrue("\(error)".contains(c.reason), "\(c.name): \(error)")
            }
            // No offset moved past the bad record.
            let stored = try await writer.storedOffsets()
            XCTAssertNil(stored[TopicPartition(topic, 0)].flatMap { $0 > 1 ? $0 : nil }, "\(c.name): \(stored)")
            await writer.close()
        }
    }

    func testToleranceAllWithoutADeadLetterTopicLogsEverySkip() async throws {
        try await prepare()
        let logs = CapturedLogs()
        for (index, c) in Self.cases.enumerated() {
            let topic = Self.topic(index)
            var config = Fixtures.config(options, topics: [topic])
            config.toleratesErrors = true
            let writer = MySQLRecordWriter(config: config, logger: logs.logger)
            let result = try await writer.write(Self.messages(c, topic: topic))
            await writer.close()
            XCTAssertEqual(result.failed, 1, c.name)
            XCTAssertEqual(result.nextOffsets, [TopicPartition(topic, 0): 3], c.name)
            try await assertGoodRowsLanded(topic, c.name)
            let lines = logs.lines.filter { $0.contains("at=\(topic)-0@1") }
            XCTAssertEqual(lines.count, 1, "\(c.name): \(logs.lines)")
            XCTAssertTrue(lines.first?.contains("skipped") == true && lines.first?.contains(c.reason) == true, "\(c.name): \(lines)")
        }
    }

    func testToleranceAllSendsEachBadRecordToTheDeadLetterTopicWithConnectHeaders() async throws {
        try await prepare()
        let kafka = try KafkaTestEnvironment.kafka()
        let dlqTopic = KafkaTestEnvironment.unique("dlq")
        let producer = try KafkaProducer(configuration: kafka)
        let logs = CapturedLogs()
        for (index, c) in Self.cases.enumerated() {
            let topic = Self.topic(index)
            var config = Fixtures.config(options, topics: [topic])
            config.toleratesErrors = true
            config.deadLetterTopic = dlqTopic
            let queue = DeadLetterQueue(topic: dlqTopic, connectorName: config.name, producer: producer)
            let writer = MySQLRecordWriter(config: config, deadLetters: queue, logger: logs.logger)
            let messages = Self.messages(c, topic: topic)
            let result = try await writer.write(messages)
            await writer.close()
            XCTAssertEqual(result.failed, 1, c.name)
            try await assertGoodRowsLanded(topic, c.name)
            XCTAssertEqual(logs.lines.filter { $0.contains("dead-letter") && $0.contains("at=\(topic)-0@1") }.count, 1, "\(c.name): \(logs.lines)")
        }
        await producer.close()
        let consumer = try KafkaConsumer(
            configuration: kafka.with(KafkaTestEnvironment.consumerProperties).with(["auto.offset.reset": "earliest"]),
            groupID: KafkaTestEnvironment.unique("g"), topics: [dlqTopic])
        var letters: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while letters.count < Self.cases.count && Date() < deadline {
            letters += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
        }
        await consumer.close()
        XCTAssertEqual(letters.count, Self.cases.count)
        for (index, c) in Self.cases.enumerated() {
            let topic = Self.topic(index)
            guard let letter = letters.first(where: { header($0, "__connect.errors.topic") == topic }) else {
                XCTFail("\(c.name): no dead letter")
                continue
            }
            let original = Self.messages(c, topic: topic)[1]
            XCTAssertEqual(letter.value, original.value, c.name)
            XCTAssertEqual(letter.key, original.key, c.name)
            XCTAssertEqual(header(letter, "__connect.errors.partition"), "0", c.name)
            XCTAssertEqual(header(letter, "__connect.errors.offset"), "1", c.name)
            XCTAssertEqual(header(letter, "__connect.errors.stage"), c.stage, c.name)
            XCTAssertEqual(header(letter, "__connect.errors.task.id"), "0", c.name)
            XCTAssertNotNil(header(letter, "__connect.errors.connector.name"), c.name)
            XCTAssertNotNil(header(letter, "__connect.errors.exception.class.name"), c.name)
            XCTAssertTrue(header(letter, "__connect.errors.exception.message")?.contains(c.reason) == true, "\(c.name): \(header(letter, "__connect.errors.exception.message") ?? "none")")
        }
    }

    /// A bad record too big to dead-letter as it is (a 1 MB key) no longer
    /// stops the sink on every restart: its dead letter is cut to fit.
    func testAnOversizedBadRecordIsDeadLetteredCutToFit() async throws {
        try await prepare()
        let kafka = try KafkaTestEnvironment.kafka()
        let dlqTopic = KafkaTestEnvironment.unique("dlq_big")
        let producer = try KafkaProducer(configuration: kafka)
        let c = Case(name: "1 MB key", field: .string.asOptional, good: .string("ok"), bad: .key(Array(repeating: 0x7B, count: 1 << 20)),
                     reason: "key:", stage: "KEY_CONVERTER")
        var config = Fixtures.config(options, topics: ["big"])
        config.toleratesErrors = true
        config.deadLetterTopic = dlqTopic
        let writer = MySQLRecordWriter(config: config, deadLetters: DeadLetterQueue(topic: dlqTopic, connectorName: config.name, producer: producer))
        let result = try await writer.write(Self.messages(c, topic: "big"))
        await writer.close()
        await producer.close()
        XCTAssertEqual(result.failed, 1)
        try await assertGoodRowsLanded("big", c.name)
        let consumer = try KafkaConsumer(
            configuration: kafka.with(KafkaTestEnvironment.consumerProperties).with(["auto.offset.reset": "earliest"]),
            groupID: KafkaTestEnvironment.unique("g"), topics: [dlqTopic])
        var letters: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while letters.isEmpty && Date() < deadline { letters += try await consumer.poll(maxMessages: 10, timeout: .milliseconds(200)) }
        await consumer.close()
        XCTAssertEqual(letters.count, 1)
        XCTAssertEqual(letters.first.flatMap { header($0, DeadLetterQueue.truncatedKeyHeader) }, String(1 << 20))
        XCTAssertEqual(letters.first.flatMap { header($0, "__connect.errors.offset") }, "1")
        XCTAssertLessThan(letters.first?.key?.count ?? .max, 1 << 20)
    }

    /// The writer refuses an out-of-range value even when it is bound
    /// directly (public API), as a data error, not 0000-00-00.
    func testOutOfRangeParametersAreRefusedByTheConnection() async throws {
        try await prepare()
        try await check.execute("CREATE TABLE direct (d DATE, t DATETIME(3))")
        let values: [(String, SQLValue)] = [
            ("date Int32.max", .date(days: .max)), ("datetime Int64.max", .datetime(milliseconds: .max)),
            ("datetime Int64.min", .datetime(milliseconds: .min)), ("date before year 0", .date(days: -719_529)),
        ]
        for (name, value) in values {
            do {
                _ = try await check.execute(value.isDate ? "INSERT INTO direct (d) VALUES (?)" : "INSERT INTO direct (t) VALUES (?)", [value])
                XCTFail("\(name) was stored")
            } catch let error as MySQLError {
                XCTAssertEqual(error.kind, .data, name)
                XCTAssertTrue(error.message.contains("outside"), "\(name): \(error)")
            }
        }
        // The edges are stored exactly.
        _ = try await check.execute("INSERT INTO direct (d, t) VALUES (?, ?)", [.date(days: -719_528), .datetime(milliseconds: 253_402_300_799_999)])
        let stored = try await check.query("SELECT d, t FROM direct")
        XCTAssertEqual(stored, [["0000-01-01", "9999-12-31 23:59:59.999"]])
    }

    /// Connect's no-op keys are accepted, and each is named once in a notice.
    func testConnectNoOpKeysAreLoggedOnceEach() throws {
        let logs = CapturedLogs()
        let sink = try MySQLSink(properties: [
            "name": "noop", "topics": "t", "connection.url": "jdbc:mysql://127.0.0.1:3306/x",
            "value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            "internal.value.converter": "org.apache.kafka.connect.json.JsonConverter",
        ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: logs.logger)
        XCTAssertEqual(sink.config.name, "noop")
        let notices = logs.lines.filter { $0.hasPrefix("notice ignoring '") }
        XCTAssertEqual(notices.count, 2, "\(logs.lines)")
        XCTAssertTrue(notices.contains { $0.contains("'internal.value.converter'") }, "\(notices)")
        XCTAssertTrue(notices.contains { $0.contains("'value.converter.value.subject.name.strategy'") }, "\(notices)")
        // Topic names a real cluster refuses are warned about.
        let warned = CapturedLogs()
        _ = try MySQLSink(properties: [
            "name": "w", "topics": "P_order items", "connection.url": "jdbc:mysql://127.0.0.1:3306/x",
            "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq/users",
        ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: warned.logger)
        XCTAssertEqual(warned.lines.filter { $0.hasPrefix("warning topic name") }.count, 2, "\(warned.lines)")
        // A converter option that changes behaviour stays an error.
        XCTAssertThrowsError(try MySQLSink(properties: [
            "name": "noop", "topics": "t", "connection.url": "jdbc:mysql://127.0.0.1:3306/x", "value.converter.schemas.cache.size": "5",
        ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"))) { error in
            XCTAssertTrue("\(error)".contains("'value.converter.schemas.cache.size'"), "\(error)")
        }
    }

    private func assertGoodRowsLanded(_ table: String, _ name: String) async throws {
        let ids = try await check.query("SELECT id FROM `\(table)` ORDER BY id")
        XCTAssertEqual(ids, [["1"], ["3"]], name)
    }

    private func header(_ message: KafkaMessage, _ key: String) -> String? {
        message.headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension SQLValue {
    fileprivate var isDate: Bool {
        if case .date = self { return true }
        return false
    }
}
