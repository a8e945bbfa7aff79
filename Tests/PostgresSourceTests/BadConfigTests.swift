import PipelineCore
import XCTest

@testable import PostgresSource

/// Configurations that cannot work fail at startup with an error naming the
/// key, the table and the column.
final class BadConfigTests: XCTestCase {
    func startupError(_ h: SourceHarness, _ properties: [String: String]) async throws -> String {
        do {
            try await h.source(properties).run()
            XCTFail("the source started")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testMissingColumn() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("cols")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id serial PRIMARY KEY, updated timestamptz NOT NULL)")
        var error = try await startupError(h, ["mode": "incrementing", "incrementing.column.name": "nope", "table.whitelist": table])
        XCTAssertTrue(error.contains("incrementing.column.name") && error.contains("'nope' not found in public.\(table)"), error)
        error = try await startupError(h, ["mode": "timestamp", "timestamp.column.name": "modified", "table.whitelist": table])
        XCTAssertTrue(error.contains("timestamp.column.name") && error.contains("'modified' not found"), error)
        error = try await startupError(h, ["mode": "timestamp", "timestamp.column.name": "id", "table.whitelist": table])
        XCTAssertTrue(error.contains("is int4, not a timestamp"), error)
        await h.close()
    }

    func testNullableColumnWithValidateNonNull() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("nullable")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id bigint, modified timestamptz)")
        var error = try await startupError(h, ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table])
        XCTAssertTrue(error.contains("validate.non.null") && error.contains("'id' of public.\(table) is nullable"), error)
        error = try await startupError(h, ["mode": "timestamp", "timestamp.column.name": "modified", "table.whitelist": table])
        XCTAssertTrue(error.contains("validate.non.null") && error.contains("all nullable"), error)
        // Accepted when validation is off; rows with a NULL key are never read.
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) VALUES (1, now()), (NULL, now()), (2, NULL)")
        let task = h.start(try h.source(["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "validate.non.null": "false"]))
        try await h.eventually("two rows") { h.delivered() >= 2 }
        try await h.stop(task)
        XCTAssertEqual(h.delivered(), 2)
        await h.close()
    }

    func testUnknownTable() async throws {
        let h = try SourceHarness()
        let error = try await startupError(h, ["mode": "bulk", "table.whitelist": "no_such_table_here"])
        XCTAssertTrue(error.contains("table.whitelist") && error.contains("'no_such_table_here' not found"), error)
        await h.close()
    }

    func testUnsupportedColumnType() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("arrays")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id serial PRIMARY KEY, tags int[])")
        let error = try await startupError(h, ["mode": "incrementing", "table.whitelist": table])
        XCTAssertTrue(error.contains("\(table).tags") && error.contains("_int4"), error)
        await h.close()
    }

    func testWrongPasswordFailsWithoutShowingIt() async throws {
        let h = try SourceHarness()
        let error = try await startupError(h, [
            "mode": "bulk", "connection.password": "not-the-password-42", "connection.attempts": "1", "connection.backoff.ms": "1",
        ])
        XCTAssertTrue(error.contains("password authentication failed"), error)
        XCTAssertFalse(error.contains("not-the-password-42"), error)
        await h.close()
    }
}
