import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// The whole sink: real broker, real MariaDB.
final class MySQLSinkTests: XCTestCase {
    private var env: MySQLTestEnvironment!
    private var database = ""
    private var options: MySQLConnectionOptions!
    private var check: MySQLConnection!
    private var kafka: KafkaConfiguration!

    /// Connects to the test servers; called first by every test (not from
    /// setUp: a throwing setUp is reported as a skip as well as a failure).
    private func prepare() async throws {
        env = try MySQLTestEnvironment.load()
        kafka = try KafkaTestEnvironment.kafka()
        (database, options) = try await env.freshDatabase(name)
        check = MySQLConnection(options: options)
    }

    override func tearDown() async throws {
        await check?.close()
        if !database.isEmpty { await env.dropDatabase(database) }
    }

    /// Connect JDBC sink properties for this test's database, as a connector JSON would carry them.
    private func properties(_ extra: [String: String]) -> [String: String] {
        [
            "name": KafkaTestEnvironment.unique("sink"),
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "connection.url": "jdbc:mysql://\(options.host):\(options.port)/\(database)",
            "connection.user": options.user,
            "connection.password": options.password.value,
            "auto.create": "true",
            "consumer.override.session.timeout.ms": KafkaTestEnvironment.consumerProperties["session.timeout.ms"]!,
        ].merging(extra) { _, new in new }
    }

    /// Rows in `table`; 0 while the sink has not created it yet.
    private func count(_ table: String) async throws -> Int {
        guard try await tableExists(table) else { return 0 }
        return Int(try await check.query("SELECT COUNT(*) FROM \(SQLIdentifier.quote(table))")[0][0] ?? "0") ?? 0
    }

    private func tableExists(_ table: String) async throws -> Bool {
        try await !check.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [.text(table)]).isEmpty
    }

    func testSinkConsumesTopicsRegexAndStopsGracefullyWithKafkaCommitted() async throws {
        try await prepare()
        let prefix = KafkaTestEnvironment.unique("users")
        let topics = [prefix + "_a", prefix + "_b"]
        var partitionCount = 0
        for topic in topics {
            partitionCount = try await KafkaTestEnvironment.produce(Fixtures.users(Array(1...150), topic: topic, keyed: true), to: topic, spread: true, kafka: kafka)
        }
        let props = properties(["topics.regex": prefix + "_.*", "insert.mode": "insert"])
        let sink = try MySQLSink(properties: props, kafka: kafka)
        let running = Task { try await sink.run() }
        try await eventually("300 rows") {
            let a = try await self.count(topics[0])
            let b = try await self.count(topics[1])
            return a + b == 300
        }
        running.cancel()
        try await running.value  // graceful: returns, no error

        let admin = try KafkaAdmin(configuration: kafka)
        let partitions = topics.flatMap { topic in (0..<partitionCount).map { TopicPartition(topic, Int32($0)) } }
        let committed = try await admin.committedOffsets(group: "connect-\(props["name"]!)", partitions: partitions, configuration: kafka)
        XCTAssertEqual(committed.values.reduce(0, +), 300)
        let stored = try await check.query("SELECT SUM(next_offset) FROM __tributary_offsets WHERE group_id = ?", [.text("connect-\(props["name"]!)")])
        XCTAssertEqual(stored, [["300"]])
    }

    func testRestartAfterACrashBeforeTheKafkaCommitWritesNothingTwice() async throws {
        try await prepare()
        let topic = KafkaTestEnvironment.unique("crash")
        try await KafkaTestEnvironment.produce(Fixtures.users(Array(1...400), topic: topic), to: topic, spread: true, kafka: kafka)
        let props = properties(["topics": topic, "insert.mode": "insert", "batch.size": "50"])
        let config = try MySQLSinkConfig(properties: props)

        // The first life: consume part of the topic and write it to MySQL
        // (rows and offsets in one transaction), then die before committing
        // anything to Kafka.
        let consumer = try KafkaConsumer(configuration: kafka.with(KafkaTestEnvironment.consumerProperties), groupID: config.groupID, topics: [topic])
        var firstLife: [KafkaMessage] = []
        try await eventually("a first batch") {
            firstLife += try await consumer.poll(maxMessages: 150, timeout: .milliseconds(200))
            return !firstLife.isEmpty
        }
        let writer = MySQLRecordWriter(config: config)
        let written = try await writer.write(firstLife)
        XCTAssertEqual(written.written, firstLife.count)
        await writer.close()
        await consumer.close()  // no commit

        // The second life: the sink resumes from MySQL's offsets.
        let sink = try MySQLSink(config: config, kafka: kafka)
        let running = Task { try await sink.run() }
        try await eventually("400 rows") { try await self.count(topic) >= 400 }
        // Let it finish whatever batch it has, then look: still exactly 400.
        running.cancel()
        try await running.value
        let rows = try await check.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM \(SQLIdentifier.quote(topic))")
        XCTAssertEqual(rows, [["400", "400"]])
    }

    func testBadRecordsGoToTheDeadLetterTopicWithTheErrorInHeaders() async throws {
        try await prepare()
        let topic = KafkaTestEnvironment.unique("dirty")
        let dlq = topic + "_dlq"
        let notJSON = KafkaMessage(topic: topic, partition: 0, key: nil, value: Array("{not json".utf8))
        let tombstone = Fixtures.message(topic: topic, offset: 0, key: Fixtures.key(9), value: nil)
        let notStruct = Fixtures.message(topic: topic, offset: 0, value: SchemaAndValue(schema: .int32, value: .int(5)))
        var messages = Fixtures.users([1, 2], topic: topic)
        messages += [notJSON, tombstone, notStruct]
        messages += Fixtures.users([3], topic: topic)
        for i in messages.indices { messages[i].partition = 0 }
        try await KafkaTestEnvironment.produce(messages, to: topic, spread: false, kafka: kafka)

        let props = properties([
            "topics": topic, "errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
        ])
        let sink = try MySQLSink(properties: props, kafka: kafka)
        let running = Task { try await sink.run() }
        try await eventually("3 good rows") { try await self.count(topic) == 3 }

        let reader = try KafkaConsumer(configuration: kafka.with(KafkaTestEnvironment.consumerProperties), groupID: KafkaTestEnvironment.unique("dlq-reader"), topics: [dlq])
        var dead: [KafkaMessage] = []
        try await eventually("3 dead letters") {
            dead += try await reader.poll(maxMessages: 100, timeout: .milliseconds(200))
            return dead.count >= 3
        }
        await reader.close()
        running.cancel()
        try await running.value

        XCTAssertEqual(dead.count, 3)
        func header(_ m: KafkaMessage, _ key: String) -> String? {
            m.headers.last { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        // The dead-letter topic has several partitions (the embedded broker
        // auto-creates topics with its default count): order by origin.
        dead.sort { Int(header($0, "__connect.errors.offset") ?? "") ?? 0 < Int(header($1, "__connect.errors.offset") ?? "") ?? 0 }
        XCTAssertEqual(dead.map { header($0, "__connect.errors.offset") }, ["2", "3", "4"])
        XCTAssertTrue(dead.allSatisfy { header($0, "__connect.errors.topic") == topic && header($0, "__connect.errors.partition") == "0" })
        XCTAssertEqual(dead.map { header($0, "__connect.errors.stage") }, ["VALUE_CONVERTER", "TASK_PUT", "TASK_PUT"])
        XCTAssertTrue(header(dead[0], "__connect.errors.exception.message")?.contains("invalid JSON") == true, "\(dead[0].headers)")
        XCTAssertTrue(header(dead[1], "__connect.errors.exception.message")?.contains("delete.enabled") == true)
        XCTAssertTrue(header(dead[2], "__connect.errors.exception.message")?.contains("Struct") == true)
        XCTAssertEqual(dead[0].value, notJSON.value)  // the original bytes, untouched
        XCTAssertNil(dead[1].value)
    }

    func testBadRecordWithoutToleranceStopsTheSinkNamingTheRecord() async throws {
        try await prepare()
        let topic = KafkaTestEnvironment.unique("stop")
        var messages = Fixtures.users([1], topic: topic)
        messages.append(KafkaMessage(topic: topic, partition: 0, key: nil, value: Array("garbage".utf8)))
        for i in messages.indices { messages[i].partition = 0 }
        try await KafkaTestEnvironment.produce(messages, to: topic, spread: false, kafka: kafka)
        let sink = try MySQLSink(properties: properties(["topics": topic]), kafka: kafka)
        do {
            try await sink.run()
            XCTFail("the sink must stop on a bad record")
        } catch let error as PipelineError {
            XCTAssertTrue(error.description.contains("\(topic)-0@1"), error.description)
        }
        // The good record before it was in the same batch: not written either.
        let written = try await count(topic)
        XCTAssertEqual(written, 0)
    }

    func testUnknownConnectorKeyIsAnError() throws {
        // No server needed: the sink refuses these before connecting anywhere.
        let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:9")
        let base = ["connection.url": "jdbc:mysql://127.0.0.1/db", "topics": "t"]
        XCTAssertThrowsError(try MySQLSink(properties: base.merging(["pk.feilds": "id"]) { $1 }, kafka: kafka)) { error in
            XCTAssertTrue("\(error)".contains("pk.fields"), "\(error)")
        }
        XCTAssertThrowsError(try MySQLSink(properties: base.merging(["delete.enabled": "true"]) { $1 }, kafka: kafka)) { error in
            XCTAssertTrue("\(error)".contains("record_key"), "\(error)")
        }
    }
}
