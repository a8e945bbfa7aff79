import MySQLSink
import PipelineCore
import XCTest

/// The connection against the real MariaDB: binding every value type,
/// reconnecting after the server drops us, errors without secrets.
final class MySQLConnectionTests: XCTestCase {
    func testEveryValueTypeRoundTripsThroughBoundParameters() async throws {
        let env = try MySQLTestEnvironment.load()
        let (db, options) = try await env.freshDatabase()
        let connection = MySQLConnection(options: options)
        try await connection.execute("""
            CREATE TABLE t (i BIGINT, d DOUBLE, s TEXT, b BLOB, m DECIMAL(20,4), ts DATETIME(3), dt DATE, tm TIME(3), n INT) DEFAULT CHARSET=utf8mb4
            """)
        let text = "it's \"quoted\" `back` ; DROP TABLE t; -- ünïcode ✓"
        try await connection.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.int(-42), .double(1.5), .text(text), .bytes([0, 1, 255]), .decimal("-12345.6789"),
             .datetime(milliseconds: -1_234), .date(days: 19_723), .time(milliseconds: 45_296_789), .null])
        let rows = try await connection.query("SELECT i, d, s, HEX(b), m, ts, dt, tm, n FROM t")
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0], ["-42", "1.5", text, "0001FF", "-12345.6789", "1969-12-31 23:59:58.766", "2024-01-01", "12:34:56.789", nil])
        await connection.close()
        await env.dropDatabase(db)
    }

    func testLongValuesAreReadWhole() async throws {
        let env = try MySQLTestEnvironment.load()
        let connection = MySQLConnection(options: env.options)
        let long = String(repeating: "x", count: 10_000)
        let rows = try await connection.query("SELECT ?, CHAR_LENGTH(?)", [.text(long), .text(long)])
        XCTAssertEqual(rows, [[long, "10000"]])
        await connection.close()
    }

    func testReconnectsAfterTheServerKillsTheConnection() async throws {
        let env = try MySQLTestEnvironment.load()
        let connection = MySQLConnection(options: env.options)
        let id = try await connection.query("SELECT CONNECTION_ID()")[0][0]!
        let killer = MySQLConnection(options: env.options)
        try await killer.execute("KILL CONNECTION \(id)")
        await killer.close()
        // The next statement finds the connection dead, reconnects and runs.
        let rows = try await connection.query("SELECT CONNECTION_ID()")
        XCTAssertNotEqual(rows[0][0], id)
        await connection.close()
    }

    func testTransactionRollsBackOnError() async throws {
        let env = try MySQLTestEnvironment.load()
        let (db, options) = try await env.freshDatabase()
        let connection = MySQLConnection(options: options)
        try await connection.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        do {
            _ = try await connection.transaction { session in
                try session.execute("INSERT INTO t VALUES (?)", [.int(1)])
                try session.execute("INSERT INTO t VALUES (?)", [.int(1)])
            }
            XCTFail("duplicate key should fail")
        } catch let error as MySQLError {
            XCTAssertEqual(error.kind, .data)
            XCTAssertTrue(error.context.contains("INSERT INTO t"), error.context)
        }
        let count = try await connection.query("SELECT COUNT(*) FROM t")
        XCTAssertEqual(count, [["0"]])
        await connection.close()
        await env.dropDatabase(db)
    }

    func testWrongPasswordErrorDoesNotShowIt() async throws {
        let env = try MySQLTestEnvironment.load()
        var options = env.options
        options.password = Secret("definitely-wrong-pw")
        let connection = MySQLConnection(options: options, reconnectPolicy: ReconnectPolicy(attempts: 1))
        do {
            try await connection.connect()
            XCTFail("connect should fail")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("1045"), text)
            XCTAssertFalse(text.contains("definitely-wrong-pw"), text)
            XCTAssertFalse(text.contains(env.options.password.value), text)
        }
        await connection.close()
    }

    func testRequiredTLSIsPassedThrough() async throws {
        // The test server has no TLS: REQUIRED must refuse to fall back to
        // plain TCP, PREFERRED may.
        let env = try MySQLTestEnvironment.load()
        var options = env.options
        options.tls.mode = .required
        let strict = MySQLConnection(options: options, reconnectPolicy: ReconnectPolicy(attempts: 1))
        do {
            try await strict.connect()
            XCTFail("TLS REQUIRED against a server without TLS must fail")
        } catch let error as MySQLError {
            XCTAssertTrue(error.message.uppercased().contains("SSL") || error.message.uppercased().contains("TLS"), "\(error)")
        }
        await strict.close()
        options.tls.mode = .preferred
        let relaxed = MySQLConnection(options: options)
        let one = try await relaxed.query("SELECT 1")
        XCTAssertEqual(one, [["1"]])
        await relaxed.close()
    }
}
