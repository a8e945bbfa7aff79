import CLibPQ
import PipelineCore

/// The initial snapshot: every captured table read through a cursor, in
/// one REPEATABLE READ transaction on the slot's exported snapshot, so the
/// rows are exactly those committed before the slot's consistent point
/// (where streaming then starts). Rows are op `r` events, `max.batch.size` a batch.
final class SnapshotRead {
    let consistentPoint: LSN
    let startedMillis = ChangeEventEncoder.nowMillis()
    /// Tables still to read (the first is being read when `current` is set).
    var tables: [String]
    var current: CapturedTable?
    var rows = 0
    var finished = false
    static let cursor = "\"tributary_cdc_snapshot\""

    private init(consistentPoint: LSN, tables: [String]) {
        self.consistentPoint = consistentPoint
        self.tables = tables
    }

    /// Opens the transaction on `snapshotName` and lists the tables to read.
    static func begin(task: CDCTask, snapshotName: String, consistentPoint: LSN) async throws -> SnapshotRead {
        let statement = "SET TRANSACTION SNAPSHOT \(SQL.literal(snapshotName))"
        try await task.source.client.withConnection { connection in
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", operation: "begin snapshot")
            try connection.execute(statement, operation: "import the slot's snapshot")
        }
        var tables = task.included.map { $0.sorted() } ?? []
        if task.included == nil { tables = try await task.catalog.publishedTables(task.config.publication) }
        task.logger.info("snapshot of \(tables.count) table(s) at \(consistentPoint): \(tables.joined(separator: ", "))")
        return SnapshotRead(consistentPoint: consistentPoint, tables: tables)
    }

    /// The next batch of rows; an empty last batch ends the snapshot (the
    /// runner then stores it as complete); nil once that was returned.
    func next(task: CDCTask) async throws -> SourceBatch<CDCBatchPosition>? {
        let client = task.source.client
        while true {
            guard let table = current else {
                guard let name = tables.first else {
                    if finished { return nil }
                    finished = true
                    try await client.withConnection { try $0.execute("COMMIT", operation: "end snapshot") }
                    task.logger.info("snapshot complete: \(rows) rows")
                    return SourceBatch(messages: [], position: .snapshot(last: true, consistentPoint: consistentPoint), completesRange: true)
                }
                let relation = try await task.catalog.relation(name)
                let key = try await task.catalog.primaryKey(relation.id)
                let captured = CapturedTable(relation: relation, primaryKey: key, topicPrefix: task.config.topicPrefix, decimalMode: task.config.decimalMode)
                let columns = relation.columns.map { SQL.quote($0.name) }.joined(separator: ", ")
                let sql = "DECLARE \(SnapshotRead.cursor) NO SCROLL CURSOR FOR SELECT \(columns) FROM \(SQL.quote(schema: relation.namespace, table: relation.name))"
                try await client.withConnection { try $0.execute(sql, operation: "snapshot \(name)") }
                current = captured
                continue
            }
            let fetch = "FETCH FORWARD \(task.config.maxBatchSize) FROM \(SnapshotRead.cursor)"
            let tuples = try await client.withConnection { connection -> [[TupleValue]] in
                let result = try connection.query(fetch, operation: "snapshot \(table.label)")
                return (0..<result.rowCount).map { row in
                    (0..<result.columnCount).map { column in result.bytes(row, column).map { .text(Array($0)) } ?? .null }
                }
            }
            if tuples.isEmpty {
                try await client.withConnection { try $0.execute("CLOSE \(SnapshotRead.cursor)", operation: "snapshot \(table.label)") }
                current = nil
                tables.removeFirst()
                continue
            }
            rows += tuples.count
            let origin = ChangeOrigin(lsn: consistentPoint, txId: nil, commitMillis: startedMillis, snapshot: "true")
            var messages: [KafkaMessage] = []
            for tuple in tuples { messages += try task.encoder.messages(.read(tuple), of: table, origin: origin) }
            return SourceBatch(messages: messages, position: .snapshot(last: false, consistentPoint: consistentPoint))
        }
    }

    /// Ends the transaction of a snapshot that did not finish.
    func abandon(task: CDCTask) async {
        _ = try? await task.source.client.withConnection { $0.rollbackIfNeeded() }
    }
}
