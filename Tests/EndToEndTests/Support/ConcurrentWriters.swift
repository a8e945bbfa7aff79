import Foundation
import PostgresSource

/// Application-like writers: `connections` Postgres sessions at once, each
/// running transactions of one multi-row INSERT whose keys come from the
/// table's `index` bigserial, held open for a random moment before COMMIT.
/// Transactions therefore commit out of key order, the case where Kafka
/// Connect's incrementing mode loses rows (kafka-connect-jdbc #27, #915, #1015).
///
/// Rows are distinct by `email` (`w<writer>.r<n>.<table>@e2e.example`), so
/// the destinations can be compared with Postgres row by row.
struct ConcurrentWriters: Sendable {
    let url: String
    let table: String
    var connections = 4
    var rowsPerTransaction = 50
    /// How long a transaction holds its keys before COMMIT, at most.
    var maximumHold: Duration = .milliseconds(30)
    /// Wall time the writing should take about, so it overlaps the pipeline's work.
    var spread: Duration = .seconds(6)

    /// One committed transaction, timed from the client's side.
    struct Commit: Sendable {
        let firstIndex: Int64
        let commitSent: ContinuousClock.Instant
        let commitReturned: ContinuousClock.Instant
    }

    /// Writes `rows` rows (a multiple of `connections × rowsPerTransaction`)
    /// and returns every transaction's timing.
    func write(rows: Int) async throws -> [Commit] {
        let perWriter = rows / connections
        precondition(perWriter * connections == rows && perWriter % rowsPerTransaction == 0, "rows must divide evenly")
        let transactions = perWriter / rowsPerTransaction
        let pause = spread / transactions
        return try await withThrowingTaskGroup(of: [Commit].self) { group in
            for writer in 0..<connections {
                group.addTask {
                    try await self.writer(writer, transactions: transactions, pause: pause)
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// ``write(rows:)`` in the background; cancel the task to stop writing.
    func start(rows: Int) -> Task<[Commit], any Error> {
        Task { try await write(rows: rows) }
    }

    private func writer(_ writer: Int, transactions: Int, pause: Duration) async throws -> [Commit] {
        let client = PostgresClient(settings: try ConnectionSettings(url: url), name: "e2e-writer-\(writer)")
        try await client.connect()
        var commits: [Commit] = []
        let clock = ContinuousClock()
        do {
            for transaction in 0..<transactions {
                let first = transaction * rowsPerTransaction
                try await client.query("BEGIN")
                let keys = try await client.query(insert(writer: writer, rows: first..<(first + rowsPerTransaction)))
                try await Task.sleep(for: maximumHold * Double.random(in: 0...1))
                let sent = clock.now
                try await client.query("COMMIT")
                let minimum = keys.compactMap { $0.first.flatMap { $0.flatMap { Int64($0) } } }.min() ?? 0
                commits.append(Commit(firstIndex: minimum, commitSent: sent, commitReturned: clock.now))
                try await Task.sleep(for: pause * Double.random(in: 0.5...1.5))
            }
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        return commits
    }

    /// The email of row `n` of `writer`: the row's identity across all stores.
    func email(writer: Int, row: Int) -> String { "w\(writer).r\(row).\(table.lowercased())@e2e.example" }

    private func insert(writer: Int, rows: Range<Int>) -> String {
        let values = rows.map { n in
            // Non-ASCII text on purpose: every hop must keep UTF-8 intact.
            let texts = [
                "Writer \(writer)", "Row \(n)", email(writer: writer, row: n), "\(n) Hauptstraße", "Zürich", "ZH",
                String(8000 + n % 100), "CH", "+41 44 \(writer) \(n)", "Tester", "Tributary E2E",
            ]
            return "(" + texts.map(Self.literal).joined(separator: ", ") + ", DATE '1990-01-01' + \(n % 3650), clock_timestamp())"
        }
        return """
            INSERT INTO "\(table)" ("first_name", "last_name", "email", "street_address", "city", "state", "zip", \
            "country", "phone", "job", "company", "birthdate", "created_at") VALUES \(values.joined(separator: ", ")) \
            RETURNING "index"
            """
    }

    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

extension [ConcurrentWriters.Commit] {
    /// Pairs where the transaction holding the higher keys had committed
    /// before the one holding lower keys even sent its COMMIT: proof that
    /// the source saw commits out of key order.
    var outOfOrderPairs: Int {
        var count = 0
        for low in self {
            for high in self where high.firstIndex > low.firstIndex && high.commitReturned < low.commitSent {
                count += 1
            }
        }
        return count
    }
}
