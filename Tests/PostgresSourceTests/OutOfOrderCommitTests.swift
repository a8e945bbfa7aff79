import DataGen
import PipelineCore
import XCTest

@testable import PostgresSource

/// Transactions commit out of key order; the source must still deliver every
/// committed row (kafka-connect-jdbc issues 27, 915, 1015). See ``CommitFence``.
final class OutOfOrderCommitTests: XCTestCase {
    /// A takes id 2 and stays open, B inserts id 3 and commits, the source
    /// polls, A commits: 2 must still be delivered.
    func testOpenTransactionWithLowerKeyIsNotSkipped() async throws {
        try await runOpenTransactionScenario(
            columns: "id bigserial PRIMARY KEY, v text NOT NULL",
            properties: ["mode": "incrementing", "incrementing.column.name": "id"])
    }

    /// The same with timestamps written under the writer's lock (clock_timestamp()).
    func testOpenTransactionWithEarlierTimestampIsNotSkipped() async throws {
        try await runOpenTransactionScenario(
            columns: "id bigserial PRIMARY KEY, v text NOT NULL, modified timestamptz NOT NULL DEFAULT clock_timestamp()",
            properties: ["mode": "timestamp+incrementing", "incrementing.column.name": "id", "timestamp.column.name": "modified"])
    }

    func runOpenTransactionScenario(columns: String, properties: [String: String]) async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("ooo")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (\(columns))")
        try await h.pg.query("INSERT INTO \(quoted) (v) VALUES ('before')")
        let task = h.start(try h.source(properties.merging(["table.whitelist": table]) { $1 }))
        try await h.eventually("the first row") { h.delivered() >= 1 }

        let a = try TestEnvironment.client(name: "writer-a")
        let idA: String = try await a.withConnection { connection in
            try connection.execute("BEGIN", operation: "begin")
            return try connection.query("INSERT INTO \(quoted) (v) VALUES ('A') RETURNING id", operation: "insert A").string(0, 0)!
        }
        let idB = try await h.pg.query("INSERT INTO \(quoted) (v) VALUES ('B') RETURNING id")[0][0]!
        XCTAssertLessThan(Int(idA)!, Int(idB)!)
        // The source has seen B's committed row and waits for A instead of moving past A's key.
        try await h.eventually("the source to wait for A") { h.waits >= 1 }
        XCTAssertEqual(h.delivered(), 1, "nothing past the open transaction is delivered yet")
        try await a.withConnection { try $0.execute("COMMIT", operation: "commit A") }
        try await h.eventually("A's and B's rows") { h.delivered() >= 3 }
        try await h.stop(task)

        let records = try await h.consume(h.topicPrefix + table, count: 3)
        XCTAssertEqual(records.compactMap { $0.string("v") }.sorted(), ["A", "B", "before"])
        await a.close()
        await h.close()
    }

    /// Eight writers insert in transactions held open for random times, some
    /// rolled back, while the source polls: every committed row is delivered,
    /// no rolled-back row is.
    func testConcurrentWritersWithRandomCommitDelays() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("testConcurrentWritersWithRandomCommitDelays seed \(seed)")
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("race")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, writer int NOT NULL, n int NOT NULL)")
        let task = h.start(try h.source([
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "7", "poll.interval.ms": "10",
        ]))
        let outcomes = try await withThrowingTaskGroup(of: (committed: [Int64], rolledBack: [Int64]).self) { group in
            for writer in 0..<8 {
                group.addTask {
                    try await Self.write(table: quoted, writer: writer, transactions: 25, seed: seed &+ UInt64(writer))
                }
            }
            var all: (committed: [Int64], rolledBack: [Int64]) = ([], [])
            for try await outcome in group {
                all.committed += outcome.committed
                all.rolledBack += outcome.rolledBack
            }
            return all
        }
        let stored = try await h.pg.query("SELECT id FROM \(quoted)").map { Int64($0[0]!)! }
        XCTAssertEqual(Set(stored), Set(outcomes.committed))
        let last = outcomes.committed.max()!
        try await h.eventually("every committed row") {
            h.events.value.contains { if case .delivered(_, _, _, let offset) = $0 { offset?.incrementing == last } else { false } }
        }
        try await h.stop(task)
        XCTAssertGreaterThan(h.waits, 0, "the writers never overlapped a poll; the test proved nothing")

        let records = try await h.consume(h.topicPrefix + table, count: outcomes.committed.count)
        let delivered = Set(records.compactMap { $0.int("id") })
        XCTAssertEqual(delivered.subtracting(outcomes.committed), [], "rolled-back or unknown rows delivered")
        XCTAssertEqual(Set(outcomes.committed).subtracting(delivered).sorted(), [], "committed rows lost (seed \(seed))")
        await h.close()
    }

    /// One writer: transactions of 1–3 rows, held open 0–30 ms, one in ten rolled back.
    static func write(table: String, writer: Int, transactions: Int, seed: UInt64) async throws -> (committed: [Int64], rolledBack: [Int64]) {
        var rng = SplitMix64(seed: seed)
        let client = try TestEnvironment.client(name: "writer-\(writer)")
        var committed: [Int64] = [], rolledBack: [Int64] = []
        for n in 0..<transactions {
            let rows = 1 + rng.below(3)
            let ids: [Int64] = try await client.withConnection { connection in
                try connection.execute("BEGIN", operation: "begin")
                let result = try connection.query(
                    "INSERT INTO \(table) (writer, n) SELECT $1::int, $2::int FROM generate_series(1, $3::int) RETURNING id",
                    [String(writer), String(n), String(rows)], operation: "insert")
                return (0..<result.rowCount).map { Int64(result.string($0, 0)!)! }
            }
            try await Task.sleep(for: .milliseconds(rng.below(31)))
            let rollback = rng.chance(1, in: 10)
            try await client.withConnection { try $0.execute(rollback ? "ROLLBACK" : "COMMIT", operation: "end") }
            if rollback { rolledBack += ids } else { committed += ids }
        }
        await client.close()
        return (committed, rolledBack)
    }
}
