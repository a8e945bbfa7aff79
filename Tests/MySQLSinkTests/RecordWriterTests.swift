import MySQLSink
import PipelineCore
import XCTest

/// The writer against the real MariaDB: each insert.mode and pk.mode,
/// deletes, evolution, bad records, and exactly-once on redelivery.
final class RecordWriterTests: XCTestCase {
    private var env: MySQLTestEnvironment!
    private var database = ""
    private var options: MySQLConnectionOptions!
    private var check: MySQLConnection!

    /// Connects to the test servers; called first by every test (not from
    /// setUp: a throwing setUp is reported as a skip as well as a failure).
    private func prepare() async throws {
        env = try MySQLTestEnvironment.load()
        (database, options) = try await env.freshDatabase(name)
        check = MySQLConnection(options: options)
    }

    override func tearDown() async throws {
        await check?.close()
        if !database.isEmpty { await env.dropDatabase(database) }
    }

    private func rows(_ sql: String) async throws -> [[String?]] {
        try await check.query(sql)
    }

    func testInsertModeWritesEachRecordOnceEvenWhenTheBatchIsDeliveredAgain() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["P_USERS"])
        let batch = Fixtures.users([1, 2, 3], topic: "P_USERS")
        let writer = MySQLRecordWriter(config: config)
        let first = try await writer.write(batch)
        XCTAssertEqual(first, BatchResult(nextOffsets: [TopicPartition("P_USERS", 0): 3], written: 3, skipped: 0, failed: 0))
        // The crash came before the Kafka commit: the same records arrive
        // again, this time in a bigger batch that continues past them.
        let again = try await writer.write(batch + Fixtures.users([4], topic: "P_USERS", from: 3))
        XCTAssertEqual(again, BatchResult(nextOffsets: [TopicPartition("P_USERS", 0): 4], written: 1, skipped: 3, failed: 0))
        await writer.close()
        // A new writer (a restarted process) sees the stored offsets too.
        let restarted = MySQLRecordWriter(config: config)
        let stored = try await restarted.storedOffsets()
        XCTAssertEqual(stored, [TopicPartition("P_USERS", 0): 4])
        let third = try await restarted.write(batch)
        XCTAssertEqual(third.skipped, 3)
        await restarted.close()
        let result = try await rows("SELECT id, name, score, joined FROM P_USERS ORDER BY id")
        XCTAssertEqual(result, [
            ["1", "user 1", "1.25", "2023-11-14 22:13:20.001"], ["2", "user 2", "2.25", "2023-11-14 22:13:20.002"],
            ["3", "user 3", "3.25", "2023-11-14 22:13:20.003"], ["4", "user 4", "4.25", "2023-11-14 22:13:20.004"],
        ])
    }

    func testUpsertWithRecordKeyUpdatesAndDeleteRemoves() async throws {
        try await prepare()
        var config = Fixtures.config(options, topics: ["people"], insertMode: .upsert, pkMode: .recordKey)
        config.deleteEnabled = true
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([1, 2], topic: "people", keyed: true))
        let batch = [
            Fixtures.message(topic: "people", offset: 2, key: Fixtures.key(1), value: Fixtures.user(1, name: "renamed")),
            Fixtures.message(topic: "people", offset: 3, key: Fixtures.key(2), value: nil),  // tombstone
            Fixtures.message(topic: "people", offset: 4, key: Fixtures.key(3), value: Fixtures.user(3, name: "new")),
            Fixtures.message(topic: "people", offset: 5, key: Fixtures.key(3), value: nil),
            Fixtures.message(topic: "people", offset: 6, key: Fixtures.key(3), value: Fixtures.user(3, name: "back")),
        ]
        let result = try await writer.write(batch)
        XCTAssertEqual(result.written, 5)
        await writer.close()
        let people = try await rows("SELECT id, name FROM people ORDER BY id")
        XCTAssertEqual(people, [["1", "renamed"], ["3", "back"]])
        let key = try await rows("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'people' AND CONSTRAINT_NAME = 'PRIMARY'")
        XCTAssertEqual(key, [["id"]])
    }

    func testUpdateModeWithRecordValueKeyChangesExistingRowsOnly() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["accounts"], insertMode: .update, pkMode: .recordValue, pkFields: ["id"])
        try await check.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, name TEXT, score DECIMAL(10,2), joined DATETIME(3)) DEFAULT CHARSET=utf8mb4")
        try await check.execute("INSERT INTO accounts (id, name) VALUES (1, 'old')")
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([1, 2], topic: "accounts"))
        await writer.close()
        let accounts = try await rows("SELECT id, name, score FROM accounts ORDER BY id")
        XCTAssertEqual(accounts, [["1", "user 1", "1.25"]])
    }

    func testKafkaPrimaryKeyModeAndFieldsWhitelist() async throws {
        try await prepare()
        var config = Fixtures.config(options, topics: ["events"], pkMode: .kafka)
        config.fieldsWhitelist = ["name"]
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([7, 8], topic: "events", partition: 2, from: 40))
        await writer.close()
        let events = try await rows("SELECT * FROM events ORDER BY __connect_offset")
        XCTAssertEqual(events, [["events", "2", "40", "user 7"], ["events", "2", "41", "user 8"]])
        let key = try await rows("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION")
        XCTAssertEqual(key, [["__connect_topic"], ["__connect_partition"], ["__connect_offset"]])
    }

    func testPrimitiveRecordKeyNeedsOnePkField() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["byname"], insertMode: .upsert, pkMode: .recordKey, pkFields: ["user_name"])
        let writer = MySQLRecordWriter(config: config)
        let key = SchemaAndValue(schema: .string, value: .string("ada"))
        _ = try await writer.write([
            Fixtures.message(topic: "byname", offset: 0, key: key, value: Fixtures.user(1)),
            Fixtures.message(topic: "byname", offset: 1, key: key, value: Fixtures.user(2)),
        ])
        await writer.close()
        let byName = try await rows("SELECT user_name, id FROM byname")
        XCTAssertEqual(byName, [["ada", "2"]])
        let type = try await rows("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'byname' AND COLUMN_NAME = 'user_name'")
        XCTAssertEqual(type, [["varchar(256)"]])
    }

    func testAutoEvolveAddsNewOptionalFields() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["evolving"])
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([1], topic: "evolving"))
        var schema = Fixtures.userSchema
        schema.fields.append(Field("email", Schema.string.asOptional))
        var value = Fixtures.user(2).value
        if case .struct(var fields) = value { fields.append(NamedValue("email", .string("b@example.com"))); value = .struct(fields) }
        _ = try await writer.write([Fixtures.message(topic: "evolving", offset: 1, value: SchemaAndValue(schema: schema, value: value))])
        // Both shapes again after the ALTER: their cached statements (and the
        // prepared handles of the old table) must still write correctly.
        var value4 = Fixtures.user(4).value
        if case .struct(var fields) = value4 { fields.append(NamedValue("email", .string("d@example.com"))); value4 = .struct(fields) }
        _ = try await writer.write([
            Fixtures.message(topic: "evolving", offset: 2, value: Fixtures.user(3)),
            Fixtures.message(topic: "evolving", offset: 3, value: SchemaAndValue(schema: schema, value: value4)),
        ])
        await writer.close()
        let evolved = try await rows("SELECT id, email FROM evolving ORDER BY id")
        XCTAssertEqual(evolved, [["1", nil], ["2", "b@example.com"], ["3", nil], ["4", "d@example.com"]])
    }

    func testBadRecordStopsTheBatchNamingItsPosition() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["strict"])
        let writer = MySQLRecordWriter(config: config)
        var batch = Fixtures.users([1, 2], topic: "strict", partition: 3, from: 10)
        batch.insert(KafkaMessage(topic: "strict", partition: 3, offset: 12, key: nil, value: Array("not json".utf8)), at: 1)
        do {
            _ = try await writer.write(batch)
            XCTFail("a bad record must stop the batch")
        } catch let error as PipelineError {
            XCTAssertTrue(error.description.contains("strict-3@12"), error.description)
        }
        // Nothing of the batch was written, and no offset moved.
        let stored = try await writer.storedOffsets()
        XCTAssertEqual(stored, [:])
        await writer.close()
    }

    func testNullIntoNotNullIsFoundPerRowAndToleratedWithoutADeadLetterTopic() async throws {
        try await prepare()
        var config = Fixtures.config(options, topics: ["nn"])
        config.toleratesErrors = true
        // The table says NOT NULL where the schema says optional.
        try await check.execute("CREATE TABLE nn (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DECIMAL(10,2), joined DATETIME(3)) DEFAULT CHARSET=utf8mb4")
        let writer = MySQLRecordWriter(config: config)
        let batch = [
            Fixtures.message(topic: "nn", offset: 0, value: Fixtures.user(1, name: "one")),
            Fixtures.message(topic: "nn", offset: 1, value: Fixtures.user(2)),  // NULL name
            Fixtures.message(topic: "nn", offset: 2, value: Fixtures.user(3, name: "three")),
        ]
        let result = try await writer.write(batch)
        XCTAssertEqual(result.failed, 1)
        XCTAssertEqual(result.written, 2)
        XCTAssertEqual(result.nextOffsets, [TopicPartition("nn", 0): 3])
        await writer.close()
        let written = try await rows("SELECT id FROM nn ORDER BY id")
        XCTAssertEqual(written, [["1"], ["3"]])
    }

    func testNullIntoNotNullWithoutToleranceNamesTheRecord() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["nn2"])
        try await check.execute("CREATE TABLE nn2 (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DECIMAL(10,2), joined DATETIME(3)) DEFAULT CHARSET=utf8mb4")
        let writer = MySQLRecordWriter(config: config)
        do {
            _ = try await writer.write([
                Fixtures.message(topic: "nn2", offset: 0, value: Fixtures.user(1, name: "one")),
                Fixtures.message(topic: "nn2", offset: 1, value: Fixtures.user(2)),
            ])
            XCTFail("NULL into NOT NULL must stop the sink")
        } catch let error as PipelineError {
            XCTAssertTrue(error.description.contains("nn2-0@1"), error.description)
            XCTAssertTrue(error.description.contains("1048"), error.description)
        }
        await writer.close()
        let written = try await rows("SELECT COUNT(*) FROM nn2")
        XCTAssertEqual(written, [["0"]])
    }

    func testTableNamesThatNeedQuotingAreHarmless() async throws {
        try await prepare()
        var config = Fixtures.config(options, topics: ["x"])
        config.tableNameFormat = "a`b; DROP TABLE x"
        try await check.execute("CREATE TABLE x (id INT)")
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([1], topic: "x") + Fixtures.users([2], topic: "a`b; DROP TABLE x", partition: 1))
        await writer.close()
        let tables = try await rows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY BINARY TABLE_NAME")
        XCTAssertEqual(tables, [["__tributary_offsets"], ["a`b; DROP TABLE x"], ["x"]])
        let written = try await rows("SELECT id FROM `a``b; DROP TABLE x` ORDER BY id")
        XCTAssertEqual(written, [["1"], ["2"]])
    }

    func testTwoWritersOfOneGroupWritingTheSameRecordsTakeTurns() async throws {
        try await prepare()
        // A zombie after a rebalance: two processes both believe they own the
        // partition and write the same batch at once. The locked offset row
        // makes one of them skip what the other committed.
        let config = Fixtures.config(options, topics: ["contended"])
        let batch = Fixtures.users(Array(1...1000), topic: "contended")
        let a = MySQLRecordWriter(config: config)
        let b = MySQLRecordWriter(config: config)
        async let first = a.write(batch)
        async let second = b.write(batch)
        let results = try await [first, second]
        await a.close()
        await b.close()
        XCTAssertEqual(results.map(\.written).reduce(0, +), 1000)
        XCTAssertEqual(results.map(\.skipped).reduce(0, +), 1000)
        let counts = try await rows("SELECT COUNT(*), COUNT(DISTINCT id) FROM contended")
        XCTAssertEqual(counts, [["1000", "1000"]])
    }

    func testWriterReconnectsWhenTheServerDropsItsConnection() async throws {
        try await prepare()
        let config = Fixtures.config(options, topics: ["dropped"])
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write(Fixtures.users([1, 2], topic: "dropped"))
        let others = try await rows("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")
        XCTAssertEqual(others.count, 1)
        for row in others { try await check.execute("KILL CONNECTION \(row[0]!)") }
        let result = try await writer.write(Fixtures.users([3], topic: "dropped", from: 2))
        XCTAssertEqual(result.written, 1)
        await writer.close()
        let ids = try await rows("SELECT id FROM dropped ORDER BY id")
        XCTAssertEqual(ids, [["1"], ["2"], ["3"]])
    }
}
