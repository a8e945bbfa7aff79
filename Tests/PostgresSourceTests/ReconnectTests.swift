import PipelineCore
import XCTest

@testable import PostgresSource

final class ReconnectTests: XCTestCase {
    /// The source's backend is killed in the middle of a backlog: it
    /// reconnects with backoff, resumes from its position, and loses nothing.
    func testSourceSurvivesALostConnection() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("reconnect")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 600) g")
        let name = TestEnvironment.uniqueName("victim")
        let url = h.url + (h.url.contains("?") ? "&" : "?") + "application_name=\(name)"
        let task = h.start(try h.source([
            "connection.url": url, "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
        ]))
        try await h.eventually("some rows") { h.delivered() >= 50 }
        let killed = try await h.pg.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", [name])
        XCTAssertEqual(killed, [["1"]])
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(601, 700) g")
        try await h.eventually("every row") {
            h.events.value.contains { if case .delivered(_, _, _, let offset) = $0 { offset?.incrementing == 700 } else { false } }
        }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix + table, count: 700)
        let missing = Set(1...700).subtracting(records.compactMap { $0.int("id") })
        XCTAssertEqual(missing.sorted(), [], "at least once, nothing lost")
        await h.close()
    }
}
