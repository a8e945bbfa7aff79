import PipelineCore

extension PostgresSource {
    /// The probe step of ``CommitFence``: the upper bound of the next range
    /// and the writers to wait for; nil when no row is above the offset.
    /// When the table's columns changed since it was described, it is
    /// described again first (`task` is replaced, keeping its offset).
    func probe(_ task: inout TableTask) async throws -> (SourceOffset, [String])? {
        let fingerprint = task.info.oid.map { Catalog.fingerprint(oid: $0) } ?? "NULL::text"
        func run(_ task: TableTask) async throws -> [[String?]] {
            let (sql, parameters) = task.query.probe(above: task.offset, limit: config.maxRowsPerCycle, scope: task.scope, fingerprint: fingerprint)
            return try await client.query(sql, parameters, operation: "probe \(task.label)")
        }
        var rows = try await run(task)
        if let name = task.info.name, let current = rows.first?[3] ?? nil, current != task.info.fingerprint {
            guard let info = try await Catalog(client: client).describe(name) else {
                throw PostgresError.statement(operation: "probe \(task.label)", sqlState: "42P01", message: "table \(name) is gone")
            }
            logger.info("\(task.label): columns changed; now \(info.columns.map(\.name).joined(separator: ", "))")
            let offset = task.offset, stored = task.offsetIsStored, recovery = task.recovery
            task = try TableTask(info: info, config: config)
            task.offset = offset
            task.offsetIsStored = stored
            task.recovery = recovery
            rows = try await run(task)
        }
        guard let row = rows.first, row[0] != nil || row[1] != nil else { return nil }
        let upper = SourceOffset(timestamp: row[0] ?? nil, incrementing: (row[1] ?? nil).flatMap { Int64($0) })
        return (upper, PostgresSource.parseTextArray(row[2] ?? "{}"))
    }

    /// How many locks the fence still waits for.
    func pendingWriters(_ writers: [String], scope: CommitFence.Scope) async throws -> Int {
        let rows = try await client.query(
            CommitFence.pendingStatement(scope), [ArrayLiteral.encode(writers)], operation: "check writers")
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// Stores `offset` (with the Kafka positions it covers) unless nothing changed.
    func storeOffset(_ task: inout TableTask, _ offset: SourceOffset?) async throws {
        guard config.mode != .bulk, var offset else { return }
        offset.kafka = task.recovery.positions(topic: task.topic)
        guard offset != task.offset else { return }
        try await offsetStore.store([task.partition: offset.json])
        task.offset = offset
        task.offsetIsStored = true
    }

    /// `{a,"b c"}` → ["a", "b c"] (virtual transaction ids need no unescaping).
    static func parseTextArray(_ text: String) -> [String] {
        text.dropFirst().dropLast().split(separator: ",").map { String($0.filter { $0 != "\"" }) }
    }
}
