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
            let offset = task.offset, recovery = task.recovery
            task = try TableTask(info: info, config: config)
            task.offset = offset
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

    /// Reads `(offset, upper]` (bulk: the whole table) through a cursor in
    /// batches of `batch.max.rows`, sends each batch (many in flight), and
    /// stores the offset the broker's acknowledgements reach: after the range, at most every
    /// second during it, and when cancelled. Returns the rows read.
    func readRange(_ task: inout TableTask, upTo upper: SourceOffset?) async throws -> Int {
        let (select, parameters) = task.query.range(above: task.offset, upTo: upper)
        let label = task.label, cursor = PostgresSource.cursor
        try await client.withConnection { connection in
            connection.rollbackIfNeeded()
            try connection.execute("BEGIN READ ONLY", operation: "read \(label)")
            do {
                try connection.query("DECLARE \(cursor) NO SCROLL CURSOR FOR \(select)", parameters, operation: "read \(label)")
            } catch {
                connection.rollbackIfNeeded()  // leave the connection usable for the next probe
                throw error
            }
        }
        do {
            let rows = try await sendPages(&task, upper: upper)
            try await client.withConnection { $0.rollbackIfNeeded() }
            return rows
        } catch {
            // A broken connection ends the transaction on its own; otherwise end it here.
            _ = try? await client.withConnection { $0.rollbackIfNeeded() }
            throw error
        }
    }

    /// Keeps a window of pages in flight (see ``SendWindow``) while the next
    /// ones are fetched and converted, so the producer's queue stays full
    /// instead of waiting for one acknowledgement every `batch.max.rows` rows.
    /// Pages are acknowledged oldest first, so the offset and the Kafka
    /// positions advance only over the longest prefix the broker acknowledged;
    /// on a failure that prefix is stored, and what the window sent beyond it
    /// is found again before the next read (``Recovery``), not sent twice.
    /// After a restart, messages an earlier run already delivered are not sent
    /// again (see ``DeliveredRecords``); every message's Kafka position, sent or
    /// skipped, advances the positions stored with the offset.
    private func sendPages(_ task: inout TableTask, upper: SourceOffset?) async throws -> Int {
        let fetch = "FETCH FORWARD \(config.batchMaxRows) FROM \(PostgresSource.cursor)"
        let keyConverter = self.keyConverter, valueConverter = self.valueConverter, producer = self.producer
        let clock = ContinuousClock()
        var lastStore = clock.now
        var delivered = task.offset
        var previous: SourceOffset?
        var total = 0
        var exhausted = false
        /// A row that cannot be converted: what is above it is sent, then this is thrown.
        var badRow: PostgresError?
        /// Positions of delivered messages not yet covered by `delivered` (timestamp mode).
        var uncovered: [Int32: Int64] = [:]
        var window = SendWindow()
        /// A page taken out of the window whose acknowledgement is awaited.
        var awaiting = false
        do {
            while true {
                var page = TableTask.Page()
                if !exhausted && badRow == nil && !Task.isCancelled {
                    let snapshot = task, before = previous
                    page = try await client.withConnection { connection in
                        let result = try connection.query(fetch, operation: "read \(snapshot.label)")
                        return try snapshot.page(from: result, after: before, keyConverter: keyConverter, valueConverter: valueConverter)
                    }
                    exhausted = page.messages.count < config.batchMaxRows
                    badRow = page.failure
                    previous = page.last ?? previous
                }
                let bytes = page.messages.reduce(0) { $0 + ($1.key?.count ?? 0) + ($1.value?.count ?? 0) }
                // Oldest first: make room for this page, or, at the end, wait for every page.
                while page.messages.isEmpty ? !window.isEmpty : window.isFull(adding: bytes) {
                    let sent = window.removeOldest()
                    awaiting = true
                    let reports = try await sent.delivery.reports()
                    awaiting = false
                    total += sent.rows
                    if task.recovery.covered != nil {
                        // Each row's position in Kafka: where it was sent now, or where the earlier run put it.
                        var next = reports.lazy.map { DeliveredRecords.Position(partition: $0.partition, offset: $0.offset) }.makeIterator()
                        let positions = (0..<sent.rows).compactMap { sent.skipped[$0] ?? next.next() }
                        if config.mode != .bulk, sent.complete != nil {
                            Recovery.merge(&task.recovery.covered!, uncovered)
                            Recovery.advance(&task.recovery.covered!, with: positions.prefix(sent.covered))
                            uncovered = [:]
                            Recovery.advance(&uncovered, with: positions.dropFirst(sent.covered))
                        } else {
                            Recovery.advance(&uncovered, with: positions)
                        }
                    }
                    if config.mode != .bulk, let complete = sent.complete { delivered = complete }
                    events(.delivered(table: task.label, topic: task.topic, rows: reports.count, offset: delivered))
                    if clock.now - lastStore > .seconds(1) {
                        try await storeOffset(&task, delivered)
                        lastStore = clock.now
                    }
                }
                if page.messages.isEmpty { break }
                var skipped: [Int: DeliveredRecords.Position] = [:]
                var messages = page.messages
                if task.recovery.delivered != nil {
                    messages = []
                    for (index, message) in page.messages.enumerated() {
                        if let report = task.recovery.delivered!.take(message) {
                            skipped[index] = report
                        } else {
                            messages.append(message)
                        }
                    }
                }
                let delivery = try await producer.enqueue(messages)
                window.add(SendWindow.Page(
                    rows: page.messages.count, bytes: bytes, complete: page.complete, covered: page.covered,
                    skipped: skipped, delivery: delivery))
                events(.sent(table: task.label, topic: task.topic, rows: messages.count, pagesInFlight: window.count))
            }
        } catch {
            // Never leave sends unobserved; their outcome no longer matters, but
            // whatever they delivered beyond the acknowledged prefix must be
            // found before the range is read again.
            let unsettled = awaiting || !window.isEmpty
            while !window.isEmpty { _ = try? await window.removeOldest().delivery.reports() }
            try? await storeOffset(&task, delivered)
            if unsettled && task.recovery.covered != nil { task.recovery.pending = true }
            throw error
        }
        // The whole range was read: everything up to its bound is delivered.
        if exhausted && badRow == nil && !Task.isCancelled, let upper {
            delivered = upper
            if task.recovery.covered != nil { Recovery.merge(&task.recovery.covered!, uncovered) }
        }
        try await storeOffset(&task, delivered)
        if let badRow { throw badRow }
        return total
    }

    /// Stores `offset` (with the Kafka positions it covers) unless nothing changed.
    func storeOffset(_ task: inout TableTask, _ offset: SourceOffset?) async throws {
        guard config.mode != .bulk, var offset else { return }
        offset.kafka = task.recovery.positions(topic: task.topic)
        guard offset != task.offset else { return }
        try await offsetStore.store([task.partition: offset.json])
        task.offset = offset
    }

    /// `{a,"b c"}` → ["a", "b c"] (virtual transaction ids need no unescaping).
    static func parseTextArray(_ text: String) -> [String] {
        text.dropFirst().dropLast().split(separator: ",").map { String($0.filter { $0 != "\"" }) }
    }
}
