import DataGen
import PipelineCore
import TestSupport
import XCTest

@testable import PostgresSource

final class SourceModeTests: XCTestCase {
    func testIncrementingDeliversNewRowsKeyedByPrimaryKey() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("inc")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id bigserial PRIMARY KEY, name text NOT NULL)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (name) SELECT 'n' || g FROM generate_series(1, 250) g")
        let task = h.start(try h.source(["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table]))
        try await h.eventually("250 rows") { h.delivered() >= 250 }
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (name) SELECT 'm' || g FROM generate_series(1, 50) g")
        try await h.eventually("300 rows") { h.delivered() >= 300 }
        try await h.stop(task)
        XCTAssertEqual(h.delivered(), 300, "each row exactly once")

        let records = try await h.consume(h.topicPrefix + table, count: 300)
        XCTAssertEqual(records.map { $0.int("id")! }.sorted(), Array(1...300))
        let first = records.first { $0.int("id") == 1 }!
        XCTAssertEqual(first.string("name"), "n1")
        XCTAssertEqual(first.value?.schema?.name, table)
        XCTAssertEqual(first.key?.schema?.fields.map(\.name), ["id"])
        XCTAssertEqual(first.key?.value, .struct([NamedValue("id", .int(1))]))
        let offsets = try await h.storedOffsets()
        XCTAssertEqual(offsets["test-source/public.\(table)"], SourceOffset(incrementing: 300).json)
        await h.close()
    }

    func testIncrementingPicksTheSerialColumnWhenNotNamed() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("auto")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (n int NOT NULL, id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (n) SELECT g FROM generate_series(1, 7) g")
        let task = h.start(try h.source(["mode": "incrementing", "table.whitelist": "public.\(table)"]))
        try await h.eventually("7 rows") { h.delivered() >= 7 }
        try await h.stop(task)
        let offsets = try await h.storedOffsets()
        XCTAssertEqual(offsets["test-source/public.\(table)"], SourceOffset(incrementing: 7).json)
        await h.close()
    }

    func testTimestampModeDeliversInsertsAndUpdates() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("ts")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (id, v) SELECT g, 'a' FROM generate_series(1, 10) g")
        let task = h.start(try h.source(["mode": "timestamp", "timestamp.column.name": "updated_at", "table.whitelist": table, "batch.max.rows": "3"]))
        try await h.eventually("10 rows") { h.delivered() >= 10 }
        try await h.pg.query("UPDATE \(SQL.quote(table)) SET v = 'b', updated_at = clock_timestamp() WHERE id IN (2, 5, 9)")
        try await h.eventually("13 rows") { h.delivered() >= 13 }
        try await h.stop(task)
        XCTAssertEqual(h.delivered(), 13)
        let records = try await h.consume(h.topicPrefix + table, count: 13)
        XCTAssertEqual(records.filter { $0.string("v") == "b" }.map { $0.value!.value[field: "id"]! }.count, 3)
        let offset = SourceOffset(json: try await h.storedOffsets()["test-source/public.\(table)"]!)
        let latest = try await h.pg.query("SELECT max(updated_at)::text FROM \(SQL.quote(table))")[0][0]
        XCTAssertEqual(offset?.timestamp, latest)
        await h.close()
    }

    /// `timestamp.initial` starts a table at a computed offset that has no
    /// Kafka positions yet: that is expected, not an offset "stored by an
    /// older version", so no notice about re-sent rows is given.
    func testTimestampInitialStartsWithoutAStoredOffsetNotice() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("tsinit")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY, updated_at timestamptz NOT NULL)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) VALUES (1, '2020-01-01Z'), (2, '2021-01-01Z'), (3, '2022-01-01Z')")
        let logs = CapturedLogs()
        let task = h.start(try h.source(
            ["mode": "timestamp", "timestamp.column.name": "updated_at", "table.whitelist": table,
             "timestamp.initial": "1577923200000"],  // 2020-01-02: row 1 is before it
            recovery: true, logger: logs.logger))
        try await h.eventually("2 rows") { h.delivered() >= 2 }
        try await h.stop(task)
        XCTAssertEqual(h.delivered(), 2)
        XCTAssertFalse(logs.lines.contains { $0.contains("stored offset") }, "\(logs.lines)")
        // A restart from the offset it stored carries Kafka positions: no notice either.
        let again = CapturedLogs()
        let second = h.start(try h.source(
            ["mode": "timestamp", "timestamp.column.name": "updated_at", "table.whitelist": table,
             "timestamp.initial": "1577923200000"],
            recovery: true, logger: again.logger))
        try await h.eventually("the restarted source polls") { again.lines.contains { $0.contains("polling") } }
        try await h.stop(second)
        XCTAssertEqual(h.delivered(), 2)
        XCTAssertFalse(again.lines.contains { $0.contains("stored offset") }, "\(again.lines)")
        await h.close()
    }

    func testTimestampIncrementingOnGeneratedUsers() async throws {
        let h = try SourceHarness()
        let table = TableName(TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: h.pg, table: usersTable(table, seed: 8))
        try await writer.createTableIfMissing()
        try await writer.generate(GenerateOptions(rows: 400, batchSize: 150))
        let task = h.start(try h.source([
            "mode": "timestamp+incrementing", "timestamp.column.name": "updated_at", "incrementing.column.name": "index",
            "table.whitelist": table.table,
        ]))
        try await h.eventually("400 rows") { h.delivered() >= 400 }
        let updates = try await writer.generate(GenerateOptions(rows: 0, updateFraction: 0.1, seed: 4))
        try await h.eventually("the updates") { h.delivered() >= 400 + Int(updates.updated) }
        try await h.stop(task)
        XCTAssertEqual(h.delivered(), 400 + Int(updates.updated))

        let records = try await h.consume(h.topicPrefix + table.table, count: h.delivered())
        let generator = UserGenerator(seed: 8)
        let row = records.first { $0.int("index") == 123 }!
        XCTAssertEqual(row.string("email"), generator.row(123).email)
        XCTAssertEqual(row.value?.schema?.field(named: "birthdate")?.schema.name, LogicalType.dateName)
        XCTAssertEqual(row.value?.value[field: "birthdate"], .date(Int32(generator.row(123).birthdate.daysSinceEpoch)))
        XCTAssertEqual(row.value?.value[field: "created_at"], .timestamp(generator.row(123).createdAt / 1000))
        await h.close()
    }

    func testBulkRereadsTheWholeTable() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("bulk")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (k text PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) VALUES ('a'), ('b'), ('c')")
        let task = h.start(try h.source(["mode": "bulk", "table.whitelist": table, "poll.interval.ms": "100"]))
        try await h.eventually("two full reads") { h.delivered() >= 6 }
        try await h.stop(task)
        XCTAssertEqual(h.delivered() % 3, 0)
        let offsets = try await h.storedOffsets()
        XCTAssertNil(offsets["test-source/public.\(table)"], "bulk keeps no offset")
        await h.close()
    }

    func testQueryModeWritesToThePrefixTopic() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("q")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id bigserial PRIMARY KEY, kind text NOT NULL, amount numeric(8,2))")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (kind, amount) VALUES ('x', 1.50), ('skip', 2), ('y', NULL), ('z', -3.25)")
        let query = "SELECT id, upper(kind) AS kind, amount FROM \(SQL.quote(table)) WHERE kind <> 'skip'"
        let task = h.start(try h.source(["mode": "incrementing", "incrementing.column.name": "id", "query": query]))
        try await h.eventually("3 rows") { h.delivered() >= 3 }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix, count: 3)
        XCTAssertEqual(records.compactMap { $0.string("kind") }.sorted(), ["X", "Y", "Z"])
        XCTAssertNil(records[0].key)
        let z = records.first { $0.string("kind") == "Z" }!
        XCTAssertEqual(z.value?.value[field: "amount"], .decimal(DecimalValue("-3.25")!))
        let offsets = try await h.storedOffsets()
        XCTAssertNotNil(offsets["test-source/query"])
        await h.close()
    }

    func testNewTablesArePickedUp() async throws {
        let h = try SourceHarness()
        let schema = TestEnvironment.uniqueName("s")
        try await h.pg.query("CREATE SCHEMA \(SQL.quote(schema))")
        try await h.pg.query("CREATE TABLE \(SQL.quote(schema: schema, table: "first")) (id serial PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(schema: schema, table: "first")) DEFAULT VALUES")
        let task = h.start(try h.source(["mode": "incrementing", "schema.pattern": schema, "table.poll.interval.ms": "100"]))
        try await h.eventually("the first table") { h.delivered("first") >= 1 }
        try await h.pg.query("CREATE TABLE \(SQL.quote(schema: schema, table: "later")) (id serial PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(schema: schema, table: "later")) DEFAULT VALUES")
        try await h.eventually("the later table") { h.delivered("later") >= 1 }
        // A later table the source cannot read is skipped, not fatal: the round
        // that finds "after" also sees "arrays", which was created first.
        try await h.pg.query("CREATE TABLE \(SQL.quote(schema: schema, table: "arrays")) (id serial PRIMARY KEY, tags text[])")
        try await h.pg.query("CREATE TABLE \(SQL.quote(schema: schema, table: "after")) (id serial PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(schema: schema, table: "after")) DEFAULT VALUES")
        try await h.eventually("the table after the unreadable one") { h.delivered("after") >= 1 }
        try await h.stop(task)
        try await h.pg.query("DROP SCHEMA \(SQL.quote(schema)) CASCADE")
        await h.close()
    }
}

final class SchemaChangeTests: XCTestCase {
    /// Columns added or dropped while the source runs are picked up at the
    /// next look at the catalog; the source keeps going.
    func testColumnsAddedAndDroppedWhileRunning() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("evolve")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id serial PRIMARY KEY, a text, b text)")
        try await h.pg.query("INSERT INTO \(quoted) (a, b) VALUES ('a1', 'b1')")
        let task = h.start(try h.source(["mode": "incrementing", "table.whitelist": table, "table.poll.interval.ms": "100"]))
        try await h.eventually("the first row") { h.delivered() >= 1 }
        try await h.pg.query("ALTER TABLE \(quoted) DROP COLUMN b")
        try await h.pg.query("INSERT INTO \(quoted) (a) VALUES ('a2')")
        try await h.eventually("a row after the drop") { h.delivered() >= 2 }
        try await h.pg.query("ALTER TABLE \(quoted) ADD COLUMN c int")
        try await h.pg.query("INSERT INTO \(quoted) (a, c) VALUES ('a3', 3)")
        try await h.eventually("a row after the add") { h.delivered() >= 3 }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix + table, count: 3)
        let third = records.first { $0.int("id") == 3 }!
        XCTAssertEqual(third.value?.schema?.fields.map(\.name), ["id", "a", "c"])
        XCTAssertEqual(third.value?.value[field: "c"], .int(3))
        await h.close()
    }
}
