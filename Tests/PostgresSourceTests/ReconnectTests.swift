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

    /// The connection dies in the middle of a range, while many pages are in
    /// flight: those pages are still acknowledged and their offset stored, so
    /// even without Kafka positions (no recovery) the range resumes after
    /// them and no row is sent twice.
    func testALostConnectionMidRangeSendsNothingTwice() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("midrange")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 3000) g")
        let name = TestEnvironment.uniqueName("victim")
        let url = h.url + (h.url.contains("?") ? "&" : "?") + "application_name=\(name)"
        let task = h.start(try h.source([
            "connection.url": url, "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
            "connection.backoff.ms": "100",
        ]))
        try await h.eventually("some rows") { h.delivered() >= 50 }
        let killed = try await h.pg.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", [name])
        XCTAssertEqual(killed, [["1"]])
        XCTAssertLessThan(h.delivered(), 3000, "the kill came after the range")
        try await h.eventually("every row") {
            h.events.value.contains { if case .delivered(_, _, _, let offset) = $0 { offset?.incrementing == 3000 } else { false } }
        }
        try await h.stop(task)
        let ids = try await h.consume(h.topicPrefix + table, count: 3000).compactMap { $0.int("id") }
        XCTAssertEqual(ids.count, 3000, "rows sent twice (or lost)")
        XCTAssertEqual(Set(ids), Set(1...3000))
        await h.close()
    }

    /// The server restarted (down 10 s) mid-backlog: the source waits it
    /// out, resumes within seconds of its return, and loses nothing.
    func testSourceWaitsOutAServerRestart() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("restart")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 20000) g")
        let task = h.start(try h.source([
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
            "poll.interval.ms": "100",
        ]))
        try await h.eventually("some rows") { h.delivered() >= 50 }
        try await PostgresServer.restart(down: .seconds(10))
        let back = Date()
        let before = h.delivered()
        // A backlog the source cannot clear before the server goes down:
        // with 3,000 rows it sometimes had sent them all, and nothing came after.
        XCTAssertLessThan(before, 20000, "the restart came after the backlog")
        try await h.eventually("rows again after the restart", within: 30) { h.delivered() > before }
        // The backoff cap is 2 s: a resume slower than 10 s means it is far
        // higher. The seconds themselves are measured by scripts/faults.sh.
        XCTAssertLessThan(Date().timeIntervalSince(back), 10, "slow to resume after PostgreSQL came back")
        _ = try await h.pg.retrying("insert", policy: .forever) { _ in
            try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(20001, 20100) g")
        }
        try await h.eventually("every row") {
            h.events.value.contains { if case .delivered(_, _, _, let offset) = $0 { offset?.incrementing == 20100 } else { false } }
        }
        try await h.stop(task)
        let records = try await h.consume(h.topicPrefix + table, count: 20100)
        let missing = Set(1...20100).subtracting(records.compactMap { $0.int("id") })
        XCTAssertEqual(missing.sorted(), [], "nothing lost")
        await h.close()
    }
}
