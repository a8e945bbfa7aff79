import MySQLSink

/// Reads the sink's table (named after the topic, `table.name.format`'s
/// default `${topic}`) in the database of TRIBUTARY_MYSQL_URL, as the seed's
/// sink config writes it.
struct MySQLReader: Sendable {
    let connection: MySQLConnection
    let table: String

    init(environment: E2EEnvironment, table: String) throws {
        connection = MySQLConnection(options: try MySQLConnectionOptions(url: environment.mysqlURL))
        self.table = table
    }

    /// Rows so far; 0 until the sink has created the table (auto.create).
    func count() async throws -> Int {
        let exists = try await connection.query(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(table)])
        guard Self.integer(exists) == 1 else { return 0 }
        return Self.integer(try await connection.query("SELECT COUNT(*) FROM `\(table)`")) ?? 0
    }

    /// Every row's `index` and `email`; duplicates stay (insert mode, no key).
    func rows() async throws -> [(index: Int64, email: String)] {
        try await connection.query("SELECT `index`, `email` FROM `\(table)`").map { row in
            guard row.count == 2, let index = row[0].flatMap({ Int64($0) }), let email = row[1] else {
                throw E2EFailure("unexpected MySQL row in \(table): \(row)")
            }
            return (index, email)
        }
    }

    /// The next offset per partition of `topic` the sink stored for `group`
    /// (with its rows, in one transaction): after a graceful stop of a
    /// caught-up sink, the topic's high watermarks.
    func storedOffsets(group: String, topic: String) async throws -> [Int32: Int64] {
        let rows = try await connection.query(
            "SELECT `kafka_partition`, `next_offset` FROM `__tributary_offsets` WHERE `group_id` = ? AND `topic` = ?", [.text(group), .text(topic)])
        var out: [Int32: Int64] = [:]
        for row in rows {
            guard row.count == 2, let partition = row[0].flatMap({ Int32($0) }), let next = row[1].flatMap({ Int64($0) }) else {
                throw E2EFailure("unexpected offsets row for \(group): \(row)")
            }
            out[partition] = next
        }
        return out
    }

    /// The single value of a one-row, one-column result, as an integer.
    private static func integer(_ rows: [[String?]]) -> Int? {
        guard let row = rows.first, let text = row.first ?? nil else { return nil }
        return Int(text)
    }

    func drop() async {
        _ = try? await connection.execute("DROP TABLE IF EXISTS `\(table)`")
    }

    func close() async { await connection.close() }
}
