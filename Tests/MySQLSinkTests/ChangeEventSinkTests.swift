import MySQLSink
import PipelineCore
import XCTest

/// Debezium change events into the real MariaDB: envelopes applied as they
/// are, and through `transforms=unwrap` (ExtractNewRecordState); offsets
/// stay in the same transaction, so a redelivered batch adds nothing.
final class ChangeEventSinkTests: XCTestCase {
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

    private func rows(_ sql: String) async throws -> [[String?]] { try await check.query(sql) }

    static let key = Schema.struct("srv.public.docs.Key", [Field("id", .int32)])
    static let row = Schema.struct("srv.public.docs.Value", [Field("id", Schema.int32.asOptional), Field("name", Schema.string.asOptional), Field("body", Schema.string.asOptional)], optional: true)
    static let source = Schema.struct("io.debezium.connector.postgresql.Source", [Field("connector", .string), Field("lsn", Schema.int64.asOptional)])

    /// A Debezium envelope as PostgresCDCSource (and Debezium) writes it; a
    /// nil `body` leaves the column out of the row and its schema (an unchanged TOAST value).
    static func event(_ op: String, offset: Int64, id: Int32?, before: (Int32, String)? = nil, after: (Int32, String, String?)? = nil) -> KafkaMessage {
        func rowValue(_ id: Int32, _ name: String, _ body: String?) -> (Schema, Value) {
            var schema = row, values = [NamedValue("id", .int(Int64(id))), NamedValue("name", .string(name))]
            if let body { values.append(NamedValue("body", .string(body))) } else { schema.fields.removeLast() }
            return (schema, .struct(values))
        }
        let b = before.map { rowValue($0.0, $0.1, nil) }, a = after.map { rowValue($0.0, $0.1, $0.2) }
        var beforeSchema = b?.0 ?? row
        if b != nil { beforeSchema = row }
        let envelope = Schema.struct("srv.public.docs.Envelope", [
            Field("before", beforeSchema), Field("after", a?.0 ?? row), Field("source", source), Field("op", .string), Field("ts_ms", Schema.int64.asOptional),
        ])
        let beforeValue: Value = before.map { .struct([NamedValue("id", .int(Int64($0.0))), NamedValue("name", .string($0.1)), NamedValue("body", .null)]) } ?? .null
        let value = Value.struct([
            NamedValue("before", beforeValue), NamedValue("after", a?.1 ?? .null),
            NamedValue("source", .struct([NamedValue("connector", .string("postgresql")), NamedValue("lsn", .int(offset))])),
            NamedValue("op", .string(op)), NamedValue("ts_ms", .int(1_700_000_000_000)),
        ])
        return Fixtures.message(
            topic: "docs", offset: offset, key: id.map { SchemaAndValue(schema: key, value: .struct([NamedValue("id", .int(Int64($0)))])) },
            value: SchemaAndValue(schema: envelope, value: value))
    }

    static func tombstone(offset: Int64, id: Int32) -> KafkaMessage {
        Fixtures.message(topic: "docs", offset: offset, key: SchemaAndValue(schema: key, value: .struct([NamedValue("id", .int(Int64(id)))])), value: nil)
    }

    func config() -> MySQLSinkConfig {
        var config = Fixtures.config(options, topics: ["docs"], insertMode: .upsert, pkMode: .recordKey)
        config.deleteEnabled = true
        return config
    }

    func testEnvelopesUpsertDeleteAndKeepUnchangedToastColumns() async throws {
        try await prepare()
        let batch = [
            Self.event("r", offset: 0, id: 1, after: (1, "ann", "long text")),
            Self.event("c", offset: 1, id: 2, after: (2, "bob", "other")),
            Self.event("u", offset: 2, id: 1, after: (1, "bea", nil)),  // body unchanged (TOAST), left out
            Self.event("d", offset: 3, id: 2, before: (2, "bob")),
            Self.tombstone(offset: 4, id: 2),
            Self.event("t", offset: 5, id: nil),
        ]
        let writer = MySQLRecordWriter(config: config())
        let result = try await writer.write(batch)
        XCTAssertEqual(result.nextOffsets, [TopicPartition("docs", 0): 6])
        let found1 = try await rows("SELECT `id`, `name`, `body` FROM `docs` ORDER BY `id`")
        XCTAssertEqual(found1, [["1", "bea", "long text"]])
        let again = try await writer.write(batch)
        XCTAssertEqual(again.written, 0, "exactly once: the redelivered batch is skipped by the stored offsets")
        let found2 = try await rows("SELECT count(*) FROM `docs`")
        XCTAssertEqual(found2, [["1"]])
        await writer.close()
    }

    func testDeletesAreSkippedWithoutDeleteEnabled() async throws {
        try await prepare()
        var config = self.config()
        config.deleteEnabled = false
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write([Self.event("c", offset: 0, id: 1, after: (1, "ann", "x")), Self.event("d", offset: 1, id: 1, before: (1, "ann"))])
        let found3 = try await rows("SELECT `name` FROM `docs`")
        XCTAssertEqual(found3, [["ann"]])
        await writer.close()
    }

    func testUnwrapRewriteMarksDeletedRowsAndDropsTombstones() async throws {
        try await prepare()
        var config = self.config()
        config.extractNewRecordState = ExtractNewRecordState(dropTombstones: true, deleteHandling: .rewrite)
        let writer = MySQLRecordWriter(config: config)
        _ = try await writer.write([
            Self.event("c", offset: 0, id: 1, after: (1, "ann", "x")), Self.event("c", offset: 1, id: 2, after: (2, "bob", "y")),
            Self.event("d", offset: 2, id: 2, before: (2, "bob")), Self.tombstone(offset: 3, id: 2),
        ])
        let found4 = try await rows("SELECT `id`, `name`, `__deleted` FROM `docs` ORDER BY `id`")
        XCTAssertEqual(found4, [["1", "ann", "false"], ["2", "bob", "true"]])
        await writer.close()
    }

    func testUnwrapDefaultDropsDeletesAndNoneDeletesThroughTombstones() async throws {
        try await prepare()
        var config = self.config()
        config.extractNewRecordState = ExtractNewRecordState()
        let dropping = MySQLRecordWriter(config: config)
        _ = try await dropping.write([Self.event("c", offset: 0, id: 1, after: (1, "ann", "x")), Self.event("d", offset: 1, id: 1, before: (1, "ann")), Self.tombstone(offset: 2, id: 1)])
        let found5 = try await rows("SELECT `name` FROM `docs`")
        XCTAssertEqual(found5, [["ann"]], "delete.handling.mode=drop and drop.tombstones=true keep the row")
        await dropping.close()

        config.extractNewRecordState = ExtractNewRecordState(dropTombstones: false, deleteHandling: .none)
        config.name += "-2"
        config.groupID += "-2"
        let deleting = MySQLRecordWriter(config: config)
        _ = try await deleting.write([Self.event("d", offset: 1, id: 1, before: (1, "ann")), Self.tombstone(offset: 2, id: 1)])
        let found6 = try await rows("SELECT count(*) FROM `docs`")
        XCTAssertEqual(found6, [["0"]])
        await deleting.close()
    }

    /// With `truncate.enabled`, a `t` event empties the table in record
    /// order, in the batch's transaction (rows before it go, rows after it
    /// stay); a redelivery changes nothing; a truncate of a missing table is a no-op.
    func testTruncateEnabledEmptiesTheTableInRecordOrder() async throws {
        try await prepare()
        var config = self.config()
        config.truncateEnabled = true
        let writer = MySQLRecordWriter(config: config)
        let missing = try await writer.write([Self.event("t", offset: 0, id: nil)])
        XCTAssertEqual(missing.nextOffsets, [TopicPartition("docs", 0): 1])
        let batch = [
            Self.event("c", offset: 1, id: 1, after: (1, "ann", "x")), Self.event("c", offset: 2, id: 2, after: (2, "bob", "y")),
            Self.event("t", offset: 3, id: nil), Self.event("c", offset: 4, id: 3, after: (3, "cy", "z")),
        ]
        _ = try await writer.write(batch)
        let found = try await rows("SELECT `id` FROM `docs` ORDER BY `id`")
        XCTAssertEqual(found, [["3"]])
        let again = try await writer.write(batch)
        XCTAssertEqual(again.written, 0)
        let kept = try await rows("SELECT `id` FROM `docs` ORDER BY `id`")
        XCTAssertEqual(kept, [["3"]])
        await writer.close()
        let parsed = try MySQLSinkConfig(properties: [
            "connection.url": "jdbc:mysql://db:3306/app", "topics": "docs", "insert.mode": "upsert", "pk.mode": "record_key", "truncate.enabled": "true",
        ], environment: [:])
        XCTAssertTrue(parsed.truncateEnabled)
    }

    func testTransformConfiguration() throws {
        let base = ["connection.url": "jdbc:mysql://db:3306/app", "topics": "docs", "insert.mode": "upsert", "pk.mode": "record_key"]
        let config = try MySQLSinkConfig(properties: base.merging([
            "transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.unwrap.drop.tombstones": "false", "transforms.unwrap.delete.handling.mode": "rewrite",
        ]) { $1 }, environment: [:])
        XCTAssertEqual(config.extractNewRecordState, ExtractNewRecordState(dropTombstones: false, deleteHandling: .rewrite))
        XCTAssertNil(try MySQLSinkConfig(properties: base, environment: [:]).extractNewRecordState)
        XCTAssertThrowsError(try MySQLSinkConfig(properties: base.merging(["transforms": "x", "transforms.x.type": "org.apache.kafka.connect.transforms.InsertField$Value"]) { $1 }, environment: [:])) {
            XCTAssertTrue("\($0)".contains("transforms.x.type"), "\($0)")
        }
        XCTAssertThrowsError(try MySQLSinkConfig(properties: base.merging(["transforms": "u", "transforms.u.type": ExtractNewRecordState.className, "transforms.u.add.fields": "op"]) { $1 }, environment: [:])) {
            XCTAssertTrue("\($0)".contains("transforms.u.add.fields"), "\($0)")
        }
        XCTAssertThrowsError(try MySQLSinkConfig(properties: base.merging(["transforms.unwrap.type": ExtractNewRecordState.className]) { $1 }, environment: [:])) {
            XCTAssertTrue("\($0)".contains("transforms.unwrap.type"), "\($0)")
        }
    }
}
