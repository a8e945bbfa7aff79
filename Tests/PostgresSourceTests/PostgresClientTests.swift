import PipelineCore
import XCTest

@testable import PostgresSource

final class PostgresClientTests: XCTestCase {
    func testParameterizedQuery() async throws {
        let client = try TestEnvironment.client()
        let rows = try await client.query("SELECT $1::int + 1, $2::text IS NULL, current_setting('TimeZone')", ["41", nil])
        XCTAssertEqual(rows, [["42", "t", "UTC"]])
        await client.close()
    }

    func testWrongPasswordErrorNeverShowsIt() async throws {
        var settings = try ConnectionSettings(url: try TestEnvironment.postgresURL())
        settings.password = Secret("wrong-password-xyz")
        let client = PostgresClient(settings: settings)
        do {
            try await client.connect(policy: .none)
            XCTFail("connected with a wrong password")
        } catch {
            let text = String(describing: error)
            XCTAssertTrue(text.contains("password authentication failed"), text)
            XCTAssertFalse(text.contains("wrong-password-xyz"), text)
        }
        await client.close()
    }

    func testStatementErrorNamesOperation() async throws {
        let client = try TestEnvironment.client()
        do {
            try await client.query("SELECT * FROM \(SQL.quote("no such \"table\""))", operation: "probe")
            XCTFail("query succeeded")
        } catch let error as PostgresError {
            guard case .statement(let operation, let state, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "probe")
            XCTAssertEqual(state, "42P01")
            XCTAssertTrue(message.contains("no such \"table\""), message)
            XCTAssertFalse(error.isRetriable)
        }
        // The connection is still usable after a statement error.
        let again = try await client.query("SELECT 1")
        XCTAssertEqual(again, [["1"]])
        await client.close()
    }

    func testReconnectsAfterTheBackendIsKilled() async throws {
        let client = try TestEnvironment.client(name: "victim")
        let killer = try TestEnvironment.client(name: "killer")
        let pid = try await client.query("SELECT pg_backend_pid()")[0][0]!
        try await killer.query("SELECT pg_terminate_backend($1::int)", [pid])
        let answer = try await client.retrying("probe", policy: .forever) { _ in
            try await client.query("SELECT pg_backend_pid()")[0][0]!
        }
        XCTAssertNotEqual(answer, pid)
        await client.close()
        await killer.close()
    }
}
