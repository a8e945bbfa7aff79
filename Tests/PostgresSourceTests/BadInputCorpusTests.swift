import PipelineCore
import XCTest

@testable import PostgresSource

/// Source rows the source must either deliver exactly or stop at with an
/// error naming table, row and column — never crash, never skip silently.
/// Each case is its own table: a good row, the bad one, a good row.
final class BadInputCorpusTests: XCTestCase {
    struct Case {
        var name: String
        /// The column type and the bad row's value as a SQL literal.
        var type: String
        var literal: String
        /// Nil: the row must arrive with this value. Otherwise the error must contain it.
        var expected: Value?
        var error: String?
    }

    static let cases: [Case] = [
        Case(name: "timestamptz max", type: "timestamptz", literal: "'294276-12-31 23:59:59.999999+00'",
             expected: .timestamp(CivilCalendar.days(year: 294_276, month: 12, day: 31) * 86_400_000 + 86_399_999)),
        Case(name: "timestamp max", type: "timestamp", literal: "'294276-12-31 23:59:59.999999'",
             expected: .timestamp(CivilCalendar.days(year: 294_276, month: 12, day: 31) * 86_400_000 + 86_399_999)),
        Case(name: "timestamptz min", type: "timestamptz", literal: "'4714-11-24 00:00:00+00 BC'",
             expected: .timestamp(CivilCalendar.days(year: -4713, month: 11, day: 24) * 86_400_000)),
        Case(name: "date max", type: "date", literal: "'5874897-12-31'",
             expected: .date(Int32(CivilCalendar.days(year: 5_874_897, month: 12, day: 31)))),
        Case(name: "date min", type: "date", literal: "'4713-01-01 BC'",
             expected: .date(Int32(CivilCalendar.days(year: -4712, month: 1, day: 1)))),
        Case(name: "timestamptz infinity", type: "timestamptz", literal: "'infinity'", error: "cannot read 'infinity'"),
        Case(name: "timestamptz -infinity", type: "timestamptz", literal: "'-infinity'", error: "cannot read '-infinity'"),
        Case(name: "timestamp infinity", type: "timestamp", literal: "'infinity'", error: "cannot read 'infinity'"),
        Case(name: "date infinity", type: "date", literal: "'infinity'", error: "cannot read 'infinity'"),
        Case(name: "date -infinity", type: "date", literal: "'-infinity'", error: "cannot read '-infinity'"),
        Case(name: "numeric NaN", type: "numeric(10,2)", literal: "'NaN'", error: "cannot read 'NaN'"),
        // Unconstrained numeric maps to exact text, where Infinity is just text.
        Case(name: "unconstrained numeric Infinity", type: "numeric", literal: "'Infinity'", expected: .string("Infinity")),
    ]

    /// Values at PostgreSQL's limits that Connect's types hold: all in one
    /// table (one column each), delivered exactly.
    func testExtremeValuesArriveExactly() async throws {
        let h = try SourceHarness()
        let delivered = Self.cases.filter { $0.expected != nil }
        let table = TestEnvironment.uniqueName("edge")
        let quoted = SQL.quote(table)
        let columns = delivered.indices.map { "c\($0)" }
        try await h.pg.query("CREATE TABLE \(quoted) (id serial PRIMARY KEY, \(zip(columns, delivered).map { "\($0) \($1.type)" }.joined(separator: ", ")), note text)")
        try await h.pg.query("""
            INSERT INTO \(quoted) (\(columns.joined(separator: ", ")), note) VALUES
            (\(columns.map { _ in "NULL" }.joined(separator: ", ")), 'before'),
            (\(delivered.map(\.literal).joined(separator: ", ")), 'edge'),
            (\(columns.map { _ in "NULL" }.joined(separator: ", ")), 'after')
            """)
        let task = h.start(try h.source(["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table]))
        try await h.eventually("3 rows") { h.delivered(table) >= 3 }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix + table, count: 3).sorted { $0.int("id")! < $1.int("id")! }
        XCTAssertEqual(records.map { $0.string("note") }, ["before", "edge", "after"])
        for (column, c) in zip(columns, delivered) {
            XCTAssertEqual(records.dropFirst().first?.value?.value[field: column], c.expected, c.name)
        }
        try await h.pg.query("DROP TABLE \(quoted)")
        await h.close()
    }

    /// Values Connect's types cannot hold stop the source at the row, naming
    /// it; the row above arrives and the stored offset stays below the bad
    /// row. `errors.tolerance=all` does not skip source rows (Connect's JDBC
    /// source fails its task on them too): skipping would lose the row.
    func testUnrepresentableValuesStopTheSourceNamingTheRow() async throws {
        let h = try SourceHarness()
        for c in Self.cases where c.error != nil {
            for tolerance in ["none", "all"] {
                try await checkStops(c, tolerance: tolerance, h)
            }
        }
        await h.close()
    }

    private func checkStops(_ c: Case, tolerance: String, _ h: SourceHarness) async throws {
        let label = "\(c.name) (errors.tolerance=\(tolerance))"
        let table = TestEnvironment.uniqueName("edge")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id serial PRIMARY KEY, v \(c.type), note text)")
        try await h.pg.query("INSERT INTO \(quoted) (v, note) VALUES (NULL, 'before'), (\(c.literal), 'bad'), (NULL, 'after')")
        let source = try h.source([
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "errors.tolerance": tolerance,
        ])
        let before = h.delivered(table)
        do {
            try await source.run()
            XCTFail("\(label): the source read past the bad row")
        } catch {
            let text = "\(error)"
            // Names the table, the column and the row, then says what is wrong.
            XCTAssertTrue(text.contains("public.\(table).v"), "\(label): \(text)")
            XCTAssertTrue(text.contains("row id=2: "), "\(label): \(text)")
            XCTAssertTrue(text.contains(c.error!), "\(label): \(text)")
        }
        // The row above it was acknowledged by the broker and its offset stored; nothing after was skipped over.
        XCTAssertEqual(h.delivered(table) - before, 1, label)
        let offsets = try await h.storedOffsets()
        XCTAssertEqual(offsets["test-source/public.\(table)"]?["incrementing"], .int(1), "\(label): \(offsets)")
        try await h.pg.query("DROP TABLE \(quoted)")
    }

    /// Source configs that cannot work name the key (no server needed).
    func testBadSourceSettingsNameTheKey() {
        let base = ["name": "s", "connection.url": "jdbc:postgresql://127.0.0.1:5432/db", "mode": "incrementing", "topic.prefix": "P_"]
        let cases: [(name: String, properties: [String: String], key: String, reason: String)] = [
            ("unknown mode", ["mode": "sometimes"], "mode", "use one of"),
            ("zero poll interval", ["poll.interval.ms": "0"], "poll.interval.ms", "at least 1"),
            ("negative batch", ["batch.max.rows": "-1"], "batch.max.rows", "at least 1"),
            ("batch beyond Int32", ["batch.max.rows": "3000000000"], "batch.max.rows", "out of range"),
            ("timestamp mode without a column", ["mode": "timestamp"], "timestamp.column.name", "needs at least one timestamp column"),
            ("query with a whitelist", ["query": "SELECT 1", "table.whitelist": "USERS"], "query", "cannot be combined"),
            ("whitelist with a blacklist", ["table.whitelist": "A", "table.blacklist": "B"], "table.blacklist", "cannot be combined"),
            ("unknown table type", ["table.types": "SNAPSHOT"], "table.types", "unsupported table type"),
            ("another dialect", ["dialect.name": "MySqlDatabaseDialect"], "dialect.name", "only PostgreSqlDatabaseDialect"),
            ("non-UTC db.timezone", ["db.timezone": "Europe/Berlin"], "db.timezone", "UTC"),
            ("unknown numeric mapping", ["numeric.mapping": "exact"], "numeric.mapping", "is not supported"),
            ("timestamp.initial as text", ["mode": "timestamp", "timestamp.column.name": "t", "timestamp.initial": "yesterday"], "timestamp.initial", "expected a 64-bit integer"),
            ("negative delay", ["timestamp.delay.interval.ms": "-1"], "timestamp.delay.interval.ms", "must not be negative"),
            ("missing prefix", ["topic.prefix": ""], "topic.prefix", "missing required key"),
            ("transforms", ["transforms": "unwrap"], "transforms", "unknown or unsupported key"),
            ("Protobuf converter", ["value.converter": "io.confluent.connect.protobuf.ProtobufConverter"], "value.converter", "is not supported"),
            ("Avro converter without a registry", ["value.converter": "io.confluent.connect.avro.AvroConverter"], "value.converter.schema.registry.url", "needs the registry's URL"),
            ("unknown subject name strategy", ["key.converter": "io.confluent.connect.avro.AvroConverter", "key.converter.schema.registry.url": "http://127.0.0.1:1",
                                               "key.converter.key.subject.name.strategy": "SubjectPerTable"], "key.converter.key.subject.name.strategy", "use one of"),
            ("user info without a password", ["value.converter": "io.confluent.connect.avro.AvroConverter", "value.converter.schema.registry.url": "http://127.0.0.1:1",
                                              "value.converter.basic.auth.credentials.source": "USER_INFO", "value.converter.basic.auth.user.info": "alice"], "value.converter.basic.auth.user.info", "user:password"),
            ("latest version with auto-registration", ["value.converter": "io.confluent.connect.avro.AvroConverter", "value.converter.schema.registry.url": "http://127.0.0.1:1",
                                                       "value.converter.use.latest.version": "true"], "value.converter.use.latest.version", "auto.register.schemas=false"),
        ]
        for c in cases {
            XCTAssertThrowsError(try PostgresSourceConfig(properties: base.merging(c.properties) { _, new in new }, environment: [:]), c.name) { error in
                guard case .config(let key, let reason)? = error as? PipelineError else { return XCTFail("\(c.name): \(error)") }
                XCTAssertEqual(key, c.key, c.name)
                XCTAssertTrue(reason.contains(c.reason), "\(c.name): \(reason)")
            }
        }
        // Connect's no-op keys are fine, and noted.
        let config = try? PostgresSourceConfig(properties: base.merging(["internal.key.converter": "org.apache.kafka.connect.json.JsonConverter"]) { _, new in new })
        XCTAssertEqual(config?.ignoredKeyNotices.count, 1)
    }
}
