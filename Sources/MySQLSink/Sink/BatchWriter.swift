import PipelineCore

/// Writes rows inside an open transaction, on the connection's thread.
///
/// Rows are grouped per table into runs of the same operation and columns,
/// keeping each table's record order (an insert, a delete and an insert of
/// the same key must land in that order). A write run becomes multi-row
/// statements; a statement that fails because of a row's data is replayed
/// row by row, so exactly the bad rows are reported and the good ones stay.
/// InnoDB rolls back a failed statement on its own, so nothing half-written
/// survives the replay.
struct BatchWriter {
    let mode: MySQLSinkConfig.InsertMode
    /// MySQL's limit on placeholders in one prepared statement.
    static let maxPlaceholders = 65_535
    /// Keeps statements well under the default max_allowed_packet (16 MiB).
    static let maxStatementBytes = 4 << 20

    /// Writes `rows`; returns the rows the database refused because of their
    /// data (NULL into NOT NULL, duplicate key in insert mode, out of range).
    /// Any other error is thrown and the caller rolls back.
    func write(_ rows: [SinkRow], session: MySQLSession) throws(MySQLError) -> [RecordFailure] {
        var failures: [RecordFailure] = []
        for run in Self.runs(of: rows) {
            switch (run[0].operation, mode) {
            case (.delete, _):
                for row in run {
                    try single(row, sql: StatementBuilder.delete(row.table, keys: row.columns), values: row.values, session: session, failures: &failures)
                }
            case (.write, .update):
                guard let sql = StatementBuilder.update(run[0].table, columns: run[0].columns) else { continue }
                for row in run {
                    // SET binds the non-key values, WHERE the keys.
                    let values = Array(row.values[row.keyCount...]) + row.values[..<row.keyCount]
                    try single(row, sql: sql, values: values, session: session, failures: &failures)
                }
            case (.write, _):
                for chunk in Self.chunks(of: run) {
                    try insert(chunk, session: session, failures: &failures)
                }
            }
        }
        return failures
    }

    private func insert(_ chunk: ArraySlice<SinkRow>, session: MySQLSession, failures: inout [RecordFailure]) throws(MySQLError) {
        let first = chunk[chunk.startIndex]
        let sql = StatementBuilder.insert(first.table, columns: first.columns, rows: chunk.count, upsert: mode == .upsert)
        do {
            try session.execute(sql, chunk.flatMap(\.values))
        } catch let error where error.kind == .data && chunk.count > 1 {
            let one = StatementBuilder.insert(first.table, columns: first.columns, rows: 1, upsert: mode == .upsert)
            for row in chunk { try single(row, sql: one, values: row.values, session: session, failures: &failures) }
        } catch let error where error.kind == .data {
            failures.append(Self.failure(first, error))
        }
    }

    private func single(
        _ row: SinkRow, sql: String, values: [SQLValue], session: MySQLSession, failures: inout [RecordFailure]
    ) throws(MySQLError) {
        do {
            try session.execute(sql, values)
        } catch let error where error.kind == .data {
            failures.append(Self.failure(row, error))
        }
    }

    private static func failure(_ row: SinkRow, _ error: MySQLError) -> RecordFailure {
        RecordFailure(
            topicPartition: row.topicPartition, offset: row.offset,
            error: RowRejectedError(table: row.table.sql, error: error), stage: "TASK_PUT")
    }

    /// Per table, in order, maximal runs of rows with the same operation and columns.
    static func runs(of rows: [SinkRow]) -> [[SinkRow]] {
        // Indices first: appending rows to arrays held in a dictionary would
        // copy them on every append.
        var order: [TableRef] = []
        var indices: [TableRef: [Int]] = [:]
        for (i, row) in rows.enumerated() {
            if indices[row.table] == nil { order.append(row.table) }
            indices[row.table, default: []].append(i)
        }
        var result: [[SinkRow]] = []
        for table in order {
            var run: [SinkRow] = []
            for i in indices[table]! {
                if let last = run.last, last.operation != rows[i].operation || last.columns != rows[i].columns {
                    result.append(run)
                    run = []
                }
                run.append(rows[i])
            }
            result.append(run)
        }
        return result
    }

    /// A run cut into statements within the placeholder and size limits.
    static func chunks(of run: [SinkRow]) -> [ArraySlice<SinkRow>] {
        let maxRows = max(1, maxPlaceholders / max(1, run[0].columns.count))
        var result: [ArraySlice<SinkRow>] = []
        var start = 0
        var bytes = 0
        for (i, row) in run.enumerated() {
            let size = row.values.reduce(0) { $0 + $1.estimatedSize }
            if i > start && (i - start >= maxRows || bytes + size > maxStatementBytes) {
                result.append(run[start..<i])
                start = i
                bytes = 0
            }
            bytes += size
        }
        result.append(run[start...])
        return result
    }
}

extension SQLValue {
    /// Bytes this value takes on the wire, roughly.
    var estimatedSize: Int {
        switch self {
        case .text(let s), .decimal(let s): return s.utf8.count + 4
        case .bytes(let b): return b.count + 4
        default: return 12
        }
    }
}

/// The database refused one record's row because of its data.
public struct RowRejectedError: Error, Sendable, CustomStringConvertible {
    /// The quoted table name.
    public var table: String
    /// The server's error (NULL into NOT NULL, duplicate key, ...).
    public var error: MySQLError

    public var description: String {
        "MySQL refused the row for table \(table): error \(error.code) (\(error.sqlState)): \(error.message)"
    }
}
