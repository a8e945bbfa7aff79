import Logging
import PipelineCore

/// Fills a ``GeneratedTable``: inserts rows with COPY in batches, optionally
/// at a fixed rate, then updates a fraction of the existing rows.
///
/// Each batch is one transaction that first locks the table in ROW EXCLUSIVE
/// mode (what INSERT takes anyway), then reserves its keys from the table's
/// sequence and writes row `k` under key `k`. Taking the lock before the keys
/// is what lets ``PostgresSource`` see a batch in flight and wait for it
/// instead of skipping keys that commit out of order.
public final class TableWriter: Sendable {
    public let client: PostgresClient
    public let table: GeneratedTable

    public init(client: PostgresClient, table: GeneratedTable) {
        self.client = client
        self.table = table
    }

    /// Creates the table unless it exists.
    public func createTableIfMissing() async throws {
        let sql = table.createStatement, name = table.name
        try await client.withConnection { _ = try $0.query(sql, operation: "create table \(name)") }
    }

    /// Inserts `options.rows` rows, then updates `options.updateFraction` of all
    /// rows, reporting after every batch. Cancelling the task stops after the
    /// current batch and returns what was done.
    @discardableResult
    public func generate(_ options: GenerateOptions, progress: @escaping @Sendable (GenerateProgress) -> Void = { _ in }) async throws -> GenerateProgress {
        let clock = ContinuousClock()
        var report = GenerateProgress(start: clock.now)
        let sequence = try await serialSequence()
        let batch = options.effectiveBatchSize
        while report.inserted < options.rows && !Task.isCancelled {
            let count = Int(min(Int64(batch), options.rows - report.inserted))
            report.inserted += try await client.retrying("insert into \(table.name)", policy: .forever) { [self] _ in
                try await insertBatch(count: count, sequence: sequence)
            }
            report.update(clock.now)
            progress(report)
            guard await pace(report, options, clock) else { break }
        }
        if options.updateFraction > 0 && !Task.isCancelled {
            try await updateRows(options, report: &report, clock: clock, progress: progress)
        }
        report.finished = !Task.isCancelled
        report.update(clock.now)
        progress(report)
        return report
    }

    /// The sequence behind the key column (bigserial or identity).
    func serialSequence() async throws -> String {
        let name = table.name, key = table.keyColumn
        let rows = try await client.query(
            "SELECT pg_get_serial_sequence($1, $2)", [name.quoted, key], operation: "find the sequence of \(name).\(key)")
        guard let sequence = rows.first?.first ?? nil else {
            throw PostgresError.schema(table: name.description, reason: "column \(key) is not a serial or identity column")
        }
        return sequence
    }

    /// One transaction: lock, reserve keys, COPY the rows for those keys.
    func insertBatch(count: Int, sequence: String) async throws -> Int64 {
        let table = self.table
        let copy = "COPY \(table.name.quoted) (\(([table.keyColumn] + table.insertColumns).map(SQL.quote).joined(separator: ", "))) FROM STDIN"
        return try await client.withConnection { connection in
            try connection.inTransaction(operation: "insert into \(table.name)") {
                try connection.query("LOCK TABLE \(table.name.quoted) IN ROW EXCLUSIVE MODE", operation: "lock \(table.name)")
                let keys = try connection.query(
                    "SELECT nextval($1::regclass) FROM generate_series(1, $2::int)", [sequence, String(count)],
                    operation: "reserve keys of \(table.name)")
                var next = 0
                return try connection.copyIn(copy, operation: "copy into \(table.name)") { buffer in
                    // About 1 MiB per chunk keeps memory flat for any batch size.
                    while next < keys.rowCount && buffer.count < 1 << 20 {
                        let key = Int64(keys.string(next, 0)!)!
                        CopyText.appendRow([String(key)] + table.row(key), to: &buffer)
                        next += 1
                    }
                    return next < keys.rowCount
                }
            }
        }
    }

    /// Updates about `updateFraction` of the rows, walking the key range in
    /// batches; which rows and their new values follow from the seed.
    func updateRows(_ options: GenerateOptions, report: inout GenerateProgress, clock: ContinuousClock,
                    progress: @Sendable (GenerateProgress) -> Void) async throws {
        guard !table.updateColumns.isEmpty else { return }
        let name = table.name, key = SQL.quote(table.keyColumn)
        let bounds = try await client.query("SELECT min(\(key)), max(\(key)) FROM \(name.quoted)", operation: "key range of \(name)")
        guard let low = bounds.first?[0].flatMap({ Int64($0) }), let high = bounds.first?[1].flatMap({ Int64($0) }) else { return }
        let sql = updateStatement()
        let rng = UpdatePicker(seed: options.seed)
        var cursor = low
        let span = Int64(max(1, Double(options.effectiveBatchSize) / options.updateFraction))
        while cursor <= high && !Task.isCancelled {
            let end = min(high, cursor &+ span - 1)
            let keys = (cursor...end).filter { rng.picks($0, fraction: options.updateFraction) }
            cursor = end &+ 1
            if keys.isEmpty { continue }
            let parameters = updateParameters(keys, revision: rng.revision)
            let updated = try await client.retrying("update \(name)", policy: .forever) { [client] _ in
                try await client.withConnection { try $0.query(sql, parameters, operation: "update \(name)").affectedRows }
            }
            report.updated += updated
            report.update(clock.now)
            progress(report)
            guard await pace(report, options, clock) else { break }
        }
    }

    /// `UPDATE t SET c = v.c, ..., updated_at = clock_timestamp() FROM unnest(arrays) v WHERE t.key = v.key`.
    func updateStatement() -> String {
        let columns = table.updateColumns
        var sets = columns.map { "\(SQL.quote($0)) = v.\(SQL.quote($0))" }
        if table.hasUpdatedAt { sets.append("\"updated_at\" = clock_timestamp()") }
        let arrays = ["$1::bigint[]"] + columns.indices.map { "$\($0 + 2)::text[]" }
        let aliases = ["\"k\""] + columns.map(SQL.quote)
        return "UPDATE \(table.name.quoted) AS t SET \(sets.joined(separator: ", ")) FROM unnest(\(arrays.joined(separator: ", "))) "
            + "AS v(\(aliases.joined(separator: ", "))) WHERE t.\(SQL.quote(table.keyColumn)) = v.\"k\""
    }

    func updateParameters(_ keys: [Int64], revision: UInt64) -> [String?] {
        let values = keys.map { table.update($0, revision) }
        let keyArray = ArrayLiteral.encode(keys.map(String.init))
        return [keyArray] + table.updateColumns.indices.map { column in ArrayLiteral.encode(values.map { $0[column] }) }
    }

    /// Sleeps as needed to hold `rowsPerSecond`; false when cancelled.
    func pace(_ report: GenerateProgress, _ options: GenerateOptions, _ clock: ContinuousClock) async -> Bool {
        guard let rate = options.rowsPerSecond, rate > 0 else { return !Task.isCancelled }
        let due = report.start + .milliseconds(Int64(Double(report.inserted + report.updated) * 1000 / rate))
        do { try await clock.sleep(until: due) } catch { return false }
        return true
    }
}

/// What to generate.
public struct GenerateOptions: Sendable {
    /// Rows to insert.
    public var rows: Int64
    /// Insert (and update) at most this many rows a second; nil is as fast as possible.
    public var rowsPerSecond: Double?
    /// Rows per COPY transaction.
    public var batchSize: Int
    /// Fraction (0...1) of all rows to update afterwards, bumping `updated_at`.
    public var updateFraction: Double
    /// Chooses the rows to update and their new values.
    public var seed: UInt64

    public init(rows: Int64, rowsPerSecond: Double? = nil, batchSize: Int = 10_000, updateFraction: Double = 0, seed: UInt64 = 42) {
        self.rows = rows
        self.rowsPerSecond = rowsPerSecond
        self.batchSize = batchSize
        self.updateFraction = min(max(updateFraction, 0), 1)
        self.seed = seed
    }

    /// Small batches when rate-limited, so the rate is smooth (about ten a second).
    var effectiveBatchSize: Int {
        guard let rate = rowsPerSecond, rate > 0 else { return max(1, batchSize) }
        return max(1, min(batchSize, Int(rate / 10)))
    }
}

/// Progress of ``TableWriter/generate(_:progress:)``.
public struct GenerateProgress: Sendable {
    public var inserted: Int64 = 0
    public var updated: Int64 = 0
    public var elapsed: Duration = .zero
    /// Rows (inserted plus updated) per second so far.
    public var rowsPerSecond: Double = 0
    /// False while running, or when cancelled.
    public var finished = false
    let start: ContinuousClock.Instant

    init(start: ContinuousClock.Instant) { self.start = start }

    mutating func update(_ now: ContinuousClock.Instant) {
        elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        rowsPerSecond = seconds > 0 ? Double(inserted + updated) / seconds : 0
    }
}

/// Deterministic choice of rows to update.
struct UpdatePicker {
    let seed: UInt64
    /// The revision every update of this run writes.
    let revision: UInt64

    init(seed: UInt64) {
        self.seed = seed
        self.revision = UpdatePicker.mix(seed ^ 0xA076_1D64_78BD_642F)
    }

    func picks(_ key: Int64, fraction: Double) -> Bool {
        Double(UpdatePicker.mix(seed &+ UInt64(bitPattern: key)) >> 11) / Double(1 << 53) < fraction
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// PostgreSQL array literals (`{"a","b\"c"}`), for passing lists as one text parameter.
enum ArrayLiteral {
    static func encode(_ items: [String]) -> String {
        var out = "{"
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in item.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}
