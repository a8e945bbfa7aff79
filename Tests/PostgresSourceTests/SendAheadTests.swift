import PipelineCore
import XCTest

@testable import PostgresSource

/// The source reads a range's next page while it converts the current one
/// (``PGConnection/sendAhead(_:operation:)``): no row may be lost or read twice
/// when other statements run in between, and a rollback must leave the
/// connection usable.
final class SendAheadTests: XCTestCase {
    private let fetch = "FETCH FORWARD 3 FROM ahead_cursor"

    func testStatementsInBetweenKeepTheFetchedRows() async throws {
        let client = try TestEnvironment.client(name: "ahead")
        let fetch = self.fetch
        let pages: [[String]] = try await client.withConnection { connection in
            try connection.execute("BEGIN READ ONLY", operation: "test")
            try connection.query("DECLARE ahead_cursor NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 8) AS g ORDER BY g", operation: "test")
            var pages: [[String]] = []
            while true {
                let result = try connection.takeAhead(fetch) ?? connection.query(fetch, operation: "fetch")
                if result.rowCount == 3 { try connection.sendAhead(fetch, operation: "fetch") }
                // Another statement while the FETCH is in flight: its result is kept.
                let probe = try connection.query("SELECT 41 + 1", operation: "probe").strings
                XCTAssertEqual(probe, [["42"]])
                pages.append(result.strings.map { $0[0]! })
                if result.rowCount < 3 { break }
            }
            connection.rollbackIfNeeded()
            return pages
        }
        XCTAssertEqual(pages, [["1", "2", "3"], ["4", "5", "6"], ["7", "8"]])
        await client.close()
    }

    func testRollbackDropsWhatWasSentAhead() async throws {
        let client = try TestEnvironment.client(name: "ahead-rollback")
        let fetch = self.fetch
        let state: (taken: Bool, declareOutside: String) = try await client.withConnection { connection in
            try connection.execute("BEGIN READ ONLY", operation: "test")
            try connection.query("DECLARE ahead_cursor NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 8) AS g", operation: "test")
            try connection.sendAhead(fetch, operation: "fetch")
            connection.rollbackIfNeeded()
            let taken = try connection.takeAhead(fetch) != nil
            // Outside a transaction block a cursor cannot be declared (SQLSTATE 25P01).
            do {
                try connection.query("DECLARE ahead_cursor NO SCROLL CURSOR FOR SELECT 1", operation: "after")
                return (taken, "declared")
            } catch {
                guard case PostgresError.statement(_, let sqlState, _) = error else { return (taken, "\(error)") }
                return (taken, sqlState)
            }
        }
        XCTAssertFalse(state.taken, "a result sent ahead survived the rollback")
        XCTAssertEqual(state.declareOutside, "25P01", "the connection is still in the rolled-back transaction")
        await client.close()
    }

    func testAnErrorSentAheadIsThrownWhenTaken() async throws {
        let client = try TestEnvironment.client(name: "ahead-error")
        let message: String = try await client.withConnection { connection in
            try connection.execute("BEGIN", operation: "test")
            try connection.sendAhead("FETCH FORWARD 3 FROM no_such_cursor", operation: "read ahead")
            defer { connection.rollbackIfNeeded() }
            do {
                _ = try connection.takeAhead("FETCH FORWARD 3 FROM no_such_cursor")
                return "no error"
            } catch {
                return String(describing: error)
            }
        }
        XCTAssertTrue(message.contains("read ahead") && message.contains("no_such_cursor"), message)
        await client.close()
    }
}
