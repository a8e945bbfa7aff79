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
    /// Statement texts per row shape, shared by every batch of this writer.
    let statements = StatementCache()
    /// Insert mode sends a run with one `LOAD DATA LOCAL INFILE` first: in
    /// the same runs it cost the sink 5-28% less CPU and MariaDB about a
    /// third less than the prepared INSERTs (BENCHMARKS.md).
    var loadData: Bool

    init(mode: MySQLSinkConfig.InsertMode, loadData: Bool = true) {
        self.mode = mode
        self.loadData = loadData
    }
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
                let sql = statements.sql(.delete, for: run[0])!
                for row in run {
                    try single(row, sql: sql, values: row.values, session: session, failures: &failures)
                }
            case (.truncate, _):
                // DELETE, not TRUNCATE TABLE: that is DDL, which commits implicitly
                // in MySQL, and the offsets must commit with the rows.
                for row in run { try session.execute("DELETE FROM \(row.table.sql)") }
            case (.write, .update):
                guard let sql = statements.sql(.update, for: run[0]) else { continue }
                for row in run {
                    // SET binds the non-key values, WHERE the keys.
                    let values = Array(row.values[row.keyCount...]) + row.values[..<row.keyCount]
                    try single(row, sql: sql, values: values, session: session, failures: &failures)
                }
            case (.write, _):
                if mode == .insert && loadData && !session.loadDataRefused, try load(run, session: session) { continue }
                for chunk in Self.chunks(of: run) {
                    try insert(chunk, session: session, failures: &failures)
                }
            }
        }
        return failures
    }

    /// Loads `run` with LOAD DATA inside a savepoint. LOCAL makes the server
    /// skip bad rows with a warning (a duplicate key, a truncated value)
    /// instead of failing, so any warning, or fewer rows than sent, rolls
    /// the load back and returns false: the prepared INSERTs then report
    /// exactly the bad rows. Also false when a value has no LOAD DATA form.
    private func load(_ run: [SinkRow], session: MySQLSession) throws(MySQLError) -> Bool {
        var encoder = LoadDataEncoder(capacity: run.count * 256)
        for row in run where !encoder.append(row.values) { return false }
        try session.execute("SAVEPOINT tributary_load")
        do {
            let result = try session.loadData(statements.sql(.loadData, for: run[0])!, data: encoder.bytes)
            if result.warnings == 0 && result.rows == UInt64(run.count) {
                try session.execute("RELEASE SAVEPOINT tributary_load")
                return true
            }
        } catch let error where error.kind == .data || error.kind == .other {
            // A refused row (written below by INSERTs, which name it), or a
            // server that does not allow LOAD DATA LOCAL: INSERTs work there too.
            if Self.loadDataDisabledCodes.contains(error.code) { session.loadDataRefused = true }
        }
        try session.execute("ROLLBACK TO SAVEPOINT tributary_load")
        return false
    }

    /// "The used command is not allowed" (1148) and "loading local data is
    /// disabled" on the client (3948) or the server (3950 on MySQL, 4166 on
    /// MariaDB): LOAD DATA LOCAL is off for this connection.
    static let loadDataDisabledCodes: Set<UInt32> = [1148, 3948, 3950, 4166]

    private func insertKind(rows: Int) -> StatementCache.Kind {
        mode == .upsert ? .upsert(rows: rows) : .insert(rows: rows)
    }

    private func insert(_ chunk: ArraySlice<SinkRow>, session: MySQLSession, failures: inout [RecordFailure]) throws(MySQLError) {
        let first = chunk[chunk.startIndex]
        let sql = statements.sql(insertKind(rows: chunk.count), for: first)!
        var values: [SQLValue] = []
        values.reserveCapacity(chunk.count * first.columns.count)
        for row in chunk { values.append(contentsOf: row.values) }
        do {
            try session.execute(sql, values)
        } catch let error where error.kind == .data && chunk.count > 1 {
            let one = statements.sql(insertKind(rows: 1), for: first)!
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

    /// Per table, in order, maximal runs of rows of the same shape (so the
    /// same operation and columns; comparing ids, not column arrays, per row).
    static func runs(of rows: [SinkRow]) -> [[SinkRow]] {
        // The usual batch: one topic, one schema. Shares the array, copies no row.
        guard let first = rows.first else { return [] }
        if rows.allSatisfy({ $0.shape == first.shape }) { return [rows] }
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
                if let last = run.last, last.shape != rows[i].shape {
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
    /// Every statement has either the most rows the placeholders allow or a
    /// power of two of rows, so a shape needs only a few distinct statement
    /// texts (and prepared handles) whatever the batch sizes are.
    static func chunks(of run: [SinkRow]) -> [ArraySlice<SinkRow>] {
        let maxRows = max(1, maxPlaceholders / max(1, run[0].columns.count))
        var result: [ArraySlice<SinkRow>] = []
        var start = 0
        var bytes = 0
        for (i, row) in run.enumerated() {
            let size = row.values.reduce(0) { $0 + $1.estimatedSize }
            if i > start && (i - start >= maxRows || bytes + size > maxStatementBytes) {
                appendPieces(run[start..<i], maxRows: maxRows, to: &result)
                start = i
                bytes = 0
            }
            bytes += size
        }
        appendPieces(run[start...], maxRows: maxRows, to: &result)
        return result
    }

    /// `slice` as is when it has `maxRows` rows, else as pieces of
    /// decreasing powers of two (1,234 rows: 1,024 + 128 + 64 + 16 + 2).
    private static func appendPieces(_ slice: ArraySlice<SinkRow>, maxRows: Int, to result: inout [ArraySlice<SinkRow>]) {
        var start = slice.startIndex
        while start < slice.endIndex {
            let left = slice.endIndex - start
            let count = left >= maxRows ? maxRows : 1 << (Int.bitWidth - 1 - left.leadingZeroBitCount)
            result.append(slice[start..<(start + count)])
            start += count
        }
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
