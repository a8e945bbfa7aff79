import CLibPQ
import PipelineCore

/// The initial snapshot: every captured table read through a cursor in a
/// REPEATABLE READ transaction on the slot's exported snapshot, so the rows
/// are exactly those committed before the slot's consistent point (where
/// streaming then starts). Rows are op `r` events.
///
/// Up to ``maxLanes`` tables are read at once, each on a connection of its
/// own ("lane") that imported the same snapshot: every poll fetches the next
/// `max.batch.size` rows of each table being read, concurrently.
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

    static let maxLanes = 4
    static let cursor = "\"tributary_cdc_snapshot\""

    let consistentPoint: LSN
    let startedMillis = ChangeEventEncoder.nowMillis()
    let lanes: [Lane]
    /// The writer of the table each lane reads, by lane index.
    var reading: [ChangeEventWriter?]
    /// Tables not started yet.
    var pending: [String]
    var rows = 0
    var finished = false

    private init(consistentPoint: LSN, lanes: [Lane], tables: [String]) {
        self.consistentPoint = consistentPoint
        self.lanes = lanes
        self.pending = tables
        reading = Array(repeating: nil, count: lanes.count)
    }

    /// Lists the tables, then opens one transaction on `snapshotName` per lane.
    /// Runs before the replication connection's next command, which would end the exported snapshot.
    static func begin(task: CDCTask, snapshotName: String, consistentPoint: LSN) async throws -> SnapshotRead {
        let client = task.source.client
        let importing = "SET TRANSACTION SNAPSHOT \(SQL.literal(snapshotName))"
        let begin: @Sendable (PGConnection) throws -> Void = { connection in
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", operation: "begin snapshot")
            try connection.execute(importing, operation: "import the slot's snapshot")
        }
        try await client.withConnection(begin)
        let tables = task.captured
        var lanes = [Lane(client: client, shared: true)]
        for i in 1..<max(1, min(maxLanes, tables.count)) {
            let extra = PostgresClient(settings: client.settings, name: "\(task.config.name)-snapshot-\(i)", logger: task.logger)
            lanes.append(Lane(client: extra, shared: false))
            try await extra.withConnection(begin)
        }
        task.logger.info("snapshot of \(tables.count) table(s) at \(consistentPoint), \(lanes.count) at a time: \(tables.joined(separator: ", "))")
        return SnapshotRead(consistentPoint: consistentPoint, lanes: lanes, tables: tables)
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
            let pages = try await fetch(batchSize: task.config.maxBatchSize)
            var messages: [KafkaMessage] = []
            let origin = ChangeOrigin(lsn: consistentPoint, txId: nil, commitMillis: startedMillis, snapshot: "true")
            for (index, tuples) in pages.sorted(by: { $0.key < $1.key }) {
                guard let table = reading[index]?.table else { continue }
                if tuples.isEmpty {
                    try await lanes[index].client.withConnection { try $0.execute("CLOSE \(SnapshotRead.cursor)", operation: "snapshot \(table.label)") }
                    reading[index] = nil
                    continue
                }
                rows += tuples.count
                for tuple in tuples { messages += try reading[index]!.messages(.read(tuple), origin: origin) }
            }
            if !messages.isEmpty {
                return SourceBatch(messages: messages, position: CDCBatchPosition(.snapshot(last: false, consistentPoint: consistentPoint), messages: messages))
            }
        }
    }

    /// Gives every idle lane the next pending table and opens its cursor.
    private func startTables(task: CDCTask) async throws {
        for index in lanes.indices where reading[index] == nil {
            guard let name = pending.first else { return }
            pending.removeFirst()
            let relation = try await task.catalog.relation(name)
            let key = try await task.catalog.primaryKey(relation.id)
            let columns = relation.columns.map { SQL.quote($0.name) }.joined(separator: ", ")
            let sql = "DECLARE \(SnapshotRead.cursor) NO SCROLL CURSOR FOR SELECT \(columns) FROM \(SQL.quote(schema: relation.namespace, table: relation.name))"
            try await lanes[index].client.withConnection { try $0.execute(sql, operation: "snapshot \(name)") }
            reading[index] = task.encoder.writer(for: CapturedTable(relation: relation, primaryKey: key, topicPrefix: task.config.topicPrefix, decimalMode: task.config.decimalMode))
        }
    }

    /// The next page of every lane that reads a table, fetched concurrently.
    private func fetch(batchSize: Int) async throws -> [Int: [[TupleValue]]] {
        let fetch = "FETCH FORWARD \(batchSize) FROM \(SnapshotRead.cursor)"
        let active = lanes.indices.compactMap { index in reading[index].map { (index, lanes[index].client, $0.table.label) } }
        return try await withThrowingTaskGroup(of: (Int, [[TupleValue]]).self) { group in
            for (index, client, label) in active {
                group.addTask {
                    let tuples = try await client.withConnection { connection -> [[TupleValue]] in
                        let result = try connection.query(fetch, operation: "snapshot \(label)")
                        return (0..<result.rowCount).map { row in
                            (0..<result.columnCount).map { column in result.bytes(row, column).map { .text(Array($0)) } ?? .null }
                        }
                    }
                    return (index, tuples)
                }
            }
            var pages: [Int: [[TupleValue]]] = [:]
            for try await (index, tuples) in group { pages[index] = tuples }
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
