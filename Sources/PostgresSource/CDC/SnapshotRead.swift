import CLibPQ
import PipelineCore

/// The initial snapshot: every captured table read through a cursor in a
/// REPEATABLE READ transaction on the slot's exported snapshot, so the rows
/// are exactly those committed before the slot's consistent point (where
/// streaming then starts). Rows are op `r` events.
///
/// Up to ``maxLanes`` pieces are read at once, each on a connection of its
/// own ("lane") that imported the same snapshot: every poll fetches the next
/// page of each piece being read (at most `max.batch.size` rows, about
/// ``pageBytes`` of events) and writes their events, concurrently, on the
/// lanes' threads. A piece is a table, or for a table
/// with a primary key and at least ``batchesPerRange`` batches per range, one of up
/// to ``maxLanes`` ranges of its key (``KeyRange``), so one big table is read
/// on every lane.
final class SnapshotRead {
    /// One connection with the snapshot's transaction, and the table it reads.
    final class Lane: Sendable {
        let client: PostgresClient
        /// The source's own client: closed by the source, not here.
        let shared: Bool
        init(client: PostgresClient, shared: Bool) {
            self.client = client
            self.shared = shared
        }
    }

    /// A table to read, or one range of its key.
    struct Piece: Sendable {
        var name: String
        var table: CapturedTable
        /// nil: the whole table.
        var range: KeyRange?
    }

    static let maxLanes = 4
    static let cursor = "\"tributary_cdc_snapshot\""
    /// Rows a key range has at least, in batches of `max.batch.size`: fewer
    /// would cost more in range queries than reading them on one lane saves.
    static let batchesPerRange = 8
    /// Event bytes a lane's page is sized to, under `max.batch.size` rows.
    /// A poll of four lanes (4 MiB) then fits the runner's 8 MiB send window
    /// twice, so one poll is in flight while the lanes read the next. Pages
    /// of `max.batch.size` rows of Debezium's ~3.5 KB events made each poll
    /// 28 MB: every poll waited, before it was sent, for the one before to
    /// be acknowledged, and the snapshot of 1,000,000 rows peaked at
    /// 137–156 MB (67–81 MB with these pages) at 4–17% more CPU
    /// (BENCHMARKS.md, run 20).
    static let pageBytes = 1 << 20
    /// A guess of an event's size until the first page tells: high, so the
    /// first page is small (64 rows) whatever the rows are.
    static let initialEventBytes = 16 << 10

    let consistentPoint: LSN
    let startedMillis = ChangeEventEncoder.nowMillis()
    let lanes: [Lane]
    /// The writer of the table each lane reads, by lane index.
    var reading: [ChangeEventWriter?]
    /// Pieces not started yet.
    var pending: [Piece]
    var rows = 0
    var finished = false
    /// Key and value bytes of an event, on average, in the last poll: sizes the next pages.
    var eventBytes = SnapshotRead.initialEventBytes

    private init(consistentPoint: LSN, lanes: [Lane], pieces: [Piece]) {
        self.consistentPoint = consistentPoint
        self.lanes = lanes
        self.pending = pieces
        reading = Array(repeating: nil, count: lanes.count)
    }

    /// Describes the tables and splits the big ones into key ranges (counted
    /// in the snapshot), then opens one transaction on `snapshotName` per lane.
    /// Runs before the replication connection's next command, which would end the exported snapshot.
    static func begin(task: CDCTask, snapshotName: String, consistentPoint: LSN) async throws -> SnapshotRead {
        let client = task.source.client
        let importing = "SET TRANSACTION SNAPSHOT \(SQL.literal(snapshotName))"
        let begin: @Sendable (PGConnection) throws -> Void = { connection in
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", operation: "begin snapshot")
            try connection.execute(importing, operation: "import the slot's snapshot")
        }
        try await client.withConnection(begin)
        var pieces: [Piece] = []
        for name in task.captured {
            let relation = try await task.catalog.relation(name)
            let key = try await task.catalog.primaryKey(relation.id)
            let table = CapturedTable(relation: relation, primaryKey: key, topicPrefix: task.config.topicPrefix, decimalMode: task.config.decimalMode)
            let (ranges, rows) = try await rangeCount(table, key: key, client: client, batchSize: task.config.maxBatchSize)
            guard ranges > 1 else {
                pieces.append(Piece(name: name, table: table, range: nil))
                continue
            }
            task.logger.info("snapshot of \(name): \(rows) rows, in \(ranges) ranges of its primary key")
            pieces += (0..<ranges).map { Piece(name: name, table: table, range: KeyRange(table: relation, key: key, index: $0, of: ranges, rows: rows)) }
        }
        var lanes = [Lane(client: client, shared: true)]
        for i in 1..<max(1, min(maxLanes, pieces.count)) {
            let extra = PostgresClient(settings: client.settings, name: "\(task.config.name)-snapshot-\(i)", logger: task.logger)
            lanes.append(Lane(client: extra, shared: false))
            try await extra.withConnection(begin)
        }
        task.logger.info("snapshot of \(task.captured.count) table(s) at \(consistentPoint), \(lanes.count) at a time: \(task.captured.joined(separator: ", "))")
        return SnapshotRead(consistentPoint: consistentPoint, lanes: lanes, pieces: pieces)
    }

    /// The next rows of every table being read; an empty last batch ends the
    /// snapshot (the runner then stores it as complete); nil once that was returned.
    func next(task: CDCTask) async throws -> SourceBatch<CDCBatchPosition>? {
        while true {
            try await startTables(task: task)
            guard reading.contains(where: { $0 != nil }) else {
                if finished { return nil }
                finished = true
                for lane in lanes { try await lane.client.withConnection { try $0.execute("COMMIT", operation: "end snapshot") } }
                await closeExtraLanes()
                task.logger.info("snapshot complete: \(rows) rows")
                return SourceBatch(messages: [], position: CDCBatchPosition(.snapshot(last: true, consistentPoint: consistentPoint), messages: []), completesRange: true)
            }
            let origin = ChangeOrigin(lsn: consistentPoint, txId: nil, commitMillis: startedMillis, snapshot: "true")
            let pages = try await fetch(batchSize: Self.pageRows(maxBatchSize: task.config.maxBatchSize, eventBytes: eventBytes), origin: origin)
            var messages: [KafkaMessage] = []
            for (index, page) in pages.sorted(by: { $0.key < $1.key }) {
                guard let table = reading[index]?.table else { continue }
                if page.rows == 0 {
                    try await lanes[index].client.withConnection { try $0.execute("CLOSE \(SnapshotRead.cursor)", operation: "snapshot \(table.label)") }
                    reading[index] = nil
                    continue
                }
                reading[index] = page.writer  // what it keeps between rows
                rows += page.rows
                messages += page.messages
            }
            if !messages.isEmpty {
                let batch = SourceBatch(messages: messages, position: CDCBatchPosition(.snapshot(last: false, consistentPoint: consistentPoint), messages: messages))
                eventBytes = batch.bytes / messages.count
                return batch
            }
        }
    }

    /// Rows a lane fetches at once: about ``pageBytes`` of events of
    /// `eventBytes` each, at least one and at most `maxBatchSize`.
    static func pageRows(maxBatchSize: Int, eventBytes: Int) -> Int {
        max(1, min(maxBatchSize, pageBytes / max(1, eventBytes)))
    }

    /// Gives every idle lane the next pending piece and opens its cursor.
    private func startTables(task: CDCTask) async throws {
        for index in lanes.indices where reading[index] == nil {
            guard let piece = pending.first else { return }
            pending.removeFirst()
            let columns = piece.table.relation.columns.map { SQL.quote($0.name) }.joined(separator: ", ")
            let sql = "DECLARE \(SnapshotRead.cursor) NO SCROLL CURSOR FOR SELECT \(columns) FROM "
                + SQL.quote(schema: piece.table.relation.namespace, table: piece.table.relation.name) + (piece.range?.whereClause ?? "")
            let name = piece.name
            try await lanes[index].client.withConnection { try $0.execute(sql, operation: "snapshot \(name)") }
            reading[index] = task.encoder.writer(for: piece.table)
        }
    }

    /// How many key ranges to read `table` in, and its rows: one range
    /// without a primary key or with fewer than ``batchesPerRange`` batches of
    /// rows per range.
    private static func rangeCount(_ table: CapturedTable, key: [String], client: PostgresClient, batchSize: Int) async throws -> (ranges: Int, rows: Int) {
        guard !key.isEmpty, maxLanes > 1 else { return (1, 0) }
        let sql = "SELECT count(*) FROM \(SQL.quote(schema: table.relation.namespace, table: table.relation.name))"
        let label = table.label
        let rows = try await client.withConnection { connection in
            Int(try connection.query(sql, operation: "count \(label) for the snapshot").string(0, 0) ?? "") ?? 0
        }
        return (max(1, min(maxLanes, rows / max(1, batchSize * batchesPerRange))), rows)
    }

    /// What a lane fetched: its rows' events, and its writer after them.
    struct Page: Sendable {
        var rows: Int
        var messages: [KafkaMessage]
        var writer: ChangeEventWriter
    }

    /// The next page of every lane that reads a piece, fetched and written
    /// concurrently on the lanes' threads.
    private func fetch(batchSize: Int, origin: ChangeOrigin) async throws -> [Int: Page] {
        let fetch = "FETCH FORWARD \(batchSize) FROM \(SnapshotRead.cursor)"
        let active = lanes.indices.compactMap { index in reading[index].map { (index, lanes[index].client, $0) } }
        return try await withThrowingTaskGroup(of: (Int, Page).self) { group in
            for (index, client, writer) in active {
                group.addTask {
                    let page = try await client.withConnection { connection -> Page in
                        let result = try connection.query(fetch, operation: "snapshot \(writer.table.label)")
                        var page = Page(rows: result.rowCount, messages: [], writer: writer)
                        page.messages.reserveCapacity(result.rowCount)
                        for row in 0..<result.rowCount {
                            let tuple = (0..<result.columnCount).map { column in result.bytes(row, column).map { TupleValue.text(Array($0)) } ?? .null }
                            page.messages += try page.writer.messages(.read(tuple), origin: origin)
                        }
                        return page
                    }
                    return (index, page)
                }
            }
            var pages: [Int: Page] = [:]
            for try await (index, page) in group { pages[index] = page }
            return pages
        }
    }

    private func closeExtraLanes() async {
        for lane in lanes where !lane.shared { await lane.client.close() }
    }

    /// Ends the transactions of a snapshot that did not finish.
    func abandon(task: CDCTask) async {
        for lane in lanes { _ = try? await lane.client.withConnection { $0.rollbackIfNeeded() } }
        await closeExtraLanes()
    }
}
