@testable import MySQLSink
import PipelineCore
import XCTest

/// The write path's statement reuse: texts built once per shape and row
/// count, statement sizes from a small fixed set so prepared handles are
/// reused across batches, and per-record reporting inside those statements.
final class BatchWriterTests: XCTestCase {
    private static let table = TableRef(name: "people")
    private static let columns = [
        ColumnSpec(name: "id", schema: .int64, isPrimaryKey: true),
        ColumnSpec(name: "name", schema: Schema.string.asOptional),
    ]

    private static func rows(_ ids: Range<Int>, shape: Int = 1, from offset: Int64 = 0) -> [SinkRow] {
        ids.map { id in
            SinkRow(
                topicPartition: TopicPartition("people", 0), offset: offset + Int64(id), table: table, operation: .write,
                columns: columns, keyCount: 1, values: [.int(Int64(id)), .text("person \(id)")], shape: shape)
        }
    }

    // MARK: - Pure

    func testStatementsHaveTheMostRowsAllowedOrAPowerOfTwo() {
        let maxRows = BatchWriter.maxPlaceholders / Self.columns.count  // 32,767
        XCTAssertEqual(BatchWriter.chunks(of: Self.rows(0..<1234)).map(\.count), [1024, 128, 64, 16, 2])
        XCTAssertEqual(BatchWriter.chunks(of: Self.rows(0..<1)).map(\.count), [1])
        let big = Self.rows(0..<(2 * maxRows + 448))
        let chunks = BatchWriter.chunks(of: big)
        XCTAssertEqual(chunks.map(\.count), [maxRows, maxRows, 256, 128, 64])
        // In order and complete.
        XCTAssertEqual(chunks.flatMap { $0.map(\.offset) }, big.map(\.offset))
    }

    func testStatementTextIsBuiltOncePerShapeAndRowCount() {
        let cache = StatementCache()
        let row = Self.rows(0..<1)[0]
        let text = cache.sql(.insert(rows: 4), for: row)
        XCTAssertEqual(text, StatementBuilder.insert(Self.table, columns: Self.columns, rows: 4, upsert: false))
        XCTAssertEqual(cache.sql(.insert(rows: 4), for: row), text)
        XCTAssertEqual(cache.built, 1)
        XCTAssertEqual(cache.sql(.upsert(rows: 4), for: row), StatementBuilder.insert(Self.table, columns: Self.columns, rows: 4, upsert: true))
        var other = row
        other.shape = 2
        other.columns = [Self.columns[0]]
        XCTAssertEqual(cache.sql(.insert(rows: 4), for: other), StatementBuilder.insert(Self.table, columns: [Self.columns[0]], rows: 4, upsert: false))
        // Nothing but the key: no UPDATE, and that answer is cached too.
        XCTAssertNil(cache.sql(.update, for: other))
        XCTAssertNil(cache.sql(.update, for: other))
        XCTAssertEqual(cache.built, 4)
    }

    // MARK: - Against MariaDB

    private var env: MySQLTestEnvironment!
    private var database = ""
    private var connection: MySQLConnection!

    private func prepare() async throws {
        env = try MySQLTestEnvironment.load()
        let options: MySQLConnectionOptions
        (database, options) = try await env.freshDatabase(name)
        connection = MySQLConnection(options: options)
        try await connection.execute("CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT) DEFAULT CHARSET=utf8mb4")
    }

    override func tearDown() async throws {
        await connection?.close()
        if !database.isEmpty { await env.dropDatabase(database) }
    }

    private func write(_ writer: BatchWriter, _ rows: [SinkRow]) async throws -> [RecordFailure] {
        try await connection.transaction { session in try writer.write(rows, session: session) }
    }

    /// LOAD DATA statements this connection's server session has run so far.
    private func loads() async throws -> Int {
        let rows = try await connection.query("SHOW SESSION STATUS LIKE 'Com_load'")
        return Int(rows.first?[1] ?? "") ?? -1
    }

    /// Statements this connection's server session has prepared so far.
    private func prepares() async throws -> Int {
        let rows = try await connection.query("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'")
        return Int(rows.first?[1] ?? "") ?? -1
    }

    func testANewBatchSizeReusesThePreparedStatementsOfEarlierBatches() async throws {
        try await prepare()
        let writer = BatchWriter(mode: .insert, loadData: false)
        let failures = try await write(writer, Self.rows(0..<1235))  // 1024 + 128 + 64 + 16 + 2 + 1
        XCTAssertEqual(failures.count, 0)
        _ = try await prepares()  // prepares the status query itself
        let before = try await prepares()
        // Another size, made of statement sizes already prepared: none is prepared again.
        _ = try await write(writer, Self.rows(1235..<(1235 + 1234)))  // 1024 + 128 + 64 + 16 + 2
        let after = try await prepares()
        XCTAssertEqual(after - before, 0)
        let count = try await connection.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM people")
        XCTAssertEqual(count, [["2469", "2469"]])
    }

    func testDuplicateKeysInsideBigStatementsAreReportedPerRecord() async throws {
        try await prepare()
        try await connection.execute("INSERT INTO people (id, name) VALUES (5, 'old five'), (1100, 'old 1100')")
        let writer = BatchWriter(mode: .insert, loadData: false)
        let failures = try await write(writer, Self.rows(0..<1235, from: 100))
        XCTAssertEqual(failures.map(\.offset), [105, 1200])
        for failure in failures {
            let rejected = try XCTUnwrap(failure.error as? RowRejectedError)
            XCTAssertEqual(rejected.error.code, 1062, "\(rejected)")  // ER_DUP_ENTRY
        }
        let count = try await connection.query("SELECT COUNT(*), MIN(name) FROM people WHERE id IN (5, 1100)")
        XCTAssertEqual(count, [["2", "old 1100"]])
        let total = try await connection.query("SELECT COUNT(*) FROM people")
        XCTAssertEqual(total, [["1235"]])
    }

    // MARK: - LOAD DATA

    func testDuplicateKeysAreReportedPerRecordWhenLoadingWithLoadData() async throws {
        try await prepare()
        try await connection.execute("INSERT INTO people (id, name) VALUES (5, 'old five'), (1100, 'old 1100')")
        let writer = BatchWriter(mode: .insert)
        let failures = try await write(writer, Self.rows(0..<1235, from: 100))
        XCTAssertEqual(failures.map(\.offset), [105, 1200])
        XCTAssertEqual(failures.compactMap { ($0.error as? RowRejectedError)?.error.code }, [1062, 1062])
        let rows = try await connection.query("SELECT COUNT(*), SUM(name LIKE 'old%') FROM people")
        XCTAssertEqual(rows, [["1235", "2"]])
    }

    /// MySQL 8 ships with `local_infile=OFF`: every row still lands through
    /// prepared INSERTs, and after the first refusal no batch tries again.
    func testAServerThatRefusesLoadDataGetsPreparedInsertsAndIsNotAskedAgain() async throws {
        try await prepare()
        try await connection.execute("SET GLOBAL local_infile = OFF")
        do {
            let writer = BatchWriter(mode: .insert)
            let first = try await write(writer, Self.rows(0..<100))
            XCTAssertEqual(first.count, 0)
            let refused = try await connection.withSession { $0.loadDataRefused }
            XCTAssertTrue(refused, "the refusal should be remembered")
            let before = try await loads()
            let second = try await write(writer, Self.rows(100..<200))
            XCTAssertEqual(second.count, 0)
            let after = try await loads()
            XCTAssertEqual(after - before, 0, "a refused LOAD DATA was tried again")
            let count = try await connection.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM people")
            XCTAssertEqual(count, [["200", "200"]])
        } catch {
            try await connection.execute("SET GLOBAL local_infile = ON")
            throw error
        }
        try await connection.execute("SET GLOBAL local_infile = ON")
    }

    func testATruncatingValueIsARecordErrorNotASilentCutWithLoadData() async throws {
        try await prepare()
        try await connection.execute("CREATE TABLE short (id BIGINT PRIMARY KEY, name VARCHAR(5)) DEFAULT CHARSET=utf8mb4")
        let writer = BatchWriter(mode: .insert)
        let rows = [("fine", 0), ("much too long", 1), ("ok", 2)].map { name, i in
            SinkRow(
                topicPartition: TopicPartition("short", 0), offset: Int64(i), table: TableRef(name: "short"), operation: .write,
                columns: Self.columns, keyCount: 1, values: [.int(Int64(i)), .text(name)], shape: 7)
        }
        let failures = try await write(writer, rows)
        XCTAssertEqual(failures.map(\.offset), [1])
        XCTAssertEqual((failures.first?.error as? RowRejectedError)?.error.code, 1406)  // ER_DATA_TOO_LONG
        let stored = try await connection.query("SELECT id, name FROM short ORDER BY id")
        XCTAssertEqual(stored, [["0", "fine"], ["2", "ok"]])
    }

    /// Every nasty value lands byte for byte as the prepared INSERT stores it.
    func testLoadDataStoresWhatPreparedInsertsStore() async throws {
        try await prepare()
        let columns = [
            ColumnSpec(name: "id", schema: .int64, isPrimaryKey: true),
            ColumnSpec(name: "t", schema: Schema.string.asOptional),
            ColumnSpec(name: "b", schema: Schema.bytes.asOptional),
            ColumnSpec(name: "dt", schema: Schema.int64.asOptional),
            ColumnSpec(name: "dday", schema: Schema.int32.asOptional),
            ColumnSpec(name: "tm", schema: Schema.int32.asOptional),
            ColumnSpec(name: "amount", schema: Schema.string.asOptional),
        ]
        let ddl = "(id BIGINT PRIMARY KEY, t TEXT, b BLOB, dt DATETIME(3), dday DATE, tm TIME(3), amount DECIMAL(20,4)) DEFAULT CHARSET=utf8mb4"
        try await connection.execute("CREATE TABLE viaload " + ddl)
        try await connection.execute("CREATE TABLE viainsert " + ddl)
        let nasty: [[SQLValue]] = [
            [.text("tab\there"), .bytes([0, 9, 10, 13, 92, 78, 255, 0x80]), .datetime(milliseconds: 1_700_000_000_001),
             .date(days: 19_000), .time(milliseconds: 3_723_004), .decimal("-12.3400")],
            [.text("new\nline\r\nback\\slash \\N"), .bytes([]), .datetime(milliseconds: -1),
             .date(days: -719_162), .time(milliseconds: -90_000_000), .decimal("0")],
            [.text("\\N"), .bytes(Array("\\N".utf8)), .datetime(milliseconds: 0),
             .date(days: 0), .time(milliseconds: 0), .decimal("9999999999999999.9999")],
            [.text("unicode ünïcødé 日本 🎉 \u{0}nul"), .null, .null, .null, .null, .null],
            [.text(""), .bytes([0x5C]), .datetime(milliseconds: 253_402_300_799_999),
             .date(days: 2_932_896), .time(milliseconds: 2_000_000_000), .null],
            [.null, .null, .null, .null, .null, .null],
        ]
        func rows(_ table: String, shape: Int) -> [SinkRow] {
            nasty.enumerated().map { i, values in
                SinkRow(
                    topicPartition: TopicPartition(table, 0), offset: Int64(i), table: TableRef(name: table), operation: .write,
                    columns: columns, keyCount: 1, values: [.int(Int64(i))] + values, shape: shape)
            }
        }
        let loading = BatchWriter(mode: .insert)
        let loadsBefore = try await loads()
        let loadFailures = try await write(loading, rows("viaload", shape: 1))
        XCTAssertEqual(loadFailures.count, 0)
        let loadsAfter = try await loads()
        XCTAssertEqual(loadsAfter - loadsBefore, 1, "one LOAD DATA, no fallback")
        let insertFailures = try await write(BatchWriter(mode: .insert, loadData: false), rows("viainsert", shape: 2))
        XCTAssertEqual(insertFailures.count, 0)
        let select = "SELECT id, HEX(t), HEX(b), dt, dday, tm, amount, t IS NULL, b IS NULL FROM "
        let loaded = try await connection.query(select + "viaload ORDER BY id")
        let inserted = try await connection.query(select + "viainsert ORDER BY id")
        XCTAssertEqual(loaded.count, nasty.count)
        XCTAssertEqual(loaded, inserted)
        // 555 hours: the binary protocol's one-byte hour once made it 43.
        XCTAssertEqual(inserted.count > 4 ? inserted[4][5] : nil, "555:33:20.000")
        // And the load really was one LOAD DATA, not the fallback: no warnings left behind, and the text is exact.
        let tab = try await connection.query("SELECT t = 'tab\\there', b = X'00090A0D5C4EFF80' FROM viaload WHERE id = 0")
        XCTAssertEqual(tab, [["1", "1"]])
    }

    func testEncoderEscapesAndLeavesDoublesToPreparedInserts() {
        var encoder = LoadDataEncoder()
        XCTAssertTrue(encoder.append([.int(-5), .null, .text("a\tb\nc\\d\u{0}"), .bytes([13]), .date(days: 0), .datetime(milliseconds: 1), .time(milliseconds: -1)]))
        XCTAssertEqual(String(decoding: encoder.bytes, as: UTF8.self), "-5\t\\N\ta\\tb\\nc\\\\d\\0\t\\r\t1970-01-01\t1970-01-01 00:00:00.001000\t-00:00:00.001000\n")
        let before = encoder.bytes
        XCTAssertFalse(encoder.append([.int(1), .double(.nan)]))
        XCTAssertFalse(encoder.append([.double(0.5)]))
        XCTAssertEqual(encoder.bytes, before)
    }
}
