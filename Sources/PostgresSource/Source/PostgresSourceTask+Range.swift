import PipelineCore

/// What one sent page reaches, handed back by the runner once the broker
/// acknowledged it and every page before it.
struct PagePosition: Sendable {
    /// Rows in the page, sent now or skipped as delivered by an earlier run.
    var rows: Int
    /// See ``TableTask/Page/complete`` and ``TableTask/Page/covered``.
    var complete: SourceOffset?
    var covered: Int
    /// Rows (by index in the page) an earlier run delivered, and where.
    var skipped: [Int: DeliveredRecords.Position]
    /// The last page of a range read to its end: once acknowledged,
    /// everything up to the range's bound is delivered.
    var reachesBound: Bool
}

extension PostgresSourceTask {
    /// A range being read: `(offset, upper]` (bulk: the whole table) through
    /// a cursor, and how far the broker's acknowledgements reach.
    struct RangeRead {
        let key: String
        let upper: SourceOffset?
        /// The last row fetched.
        var previous: SourceOffset?
        /// Pages fetched and converted, not yet polled, oldest first.
        var converted: ArraySlice<TableTask.Page> = []
        /// No FETCH is left to send (the last result was short, or ended at a bad row).
        var fetchedAll = false
        /// The next rows, being fetched and converted on the connection's
        /// thread while the runner sends these pages. Awaited before anything
        /// else uses the connection: a FETCH running late would read the next
        /// range's cursor.
        var ahead: Task<FetchedPages, any Error>?
        /// Every page was fetched and polled (so nothing is being fetched ahead).
        var polledAll: Bool { fetchedAll && converted.isEmpty }
        /// A row that cannot be converted: the rows above it are sent, then this is thrown.
        var badRow: PostgresError?
        /// Everything at or below this is acknowledged.
        var delivered: SourceOffset?
        /// Positions of acknowledged messages not yet covered by `delivered` (timestamp mode).
        var uncovered: [Int32: Int64] = [:]
        /// Rows acknowledged (sent or skipped).
        var total = 0
    }

    /// Opens a read-only transaction with a cursor over the range, and fetches its first page.
    func openRange(_ key: String, upTo upper: SourceOffset?) async throws -> SourceBatch<PagePosition> {
        let task = tables[key]!
        let (select, parameters) = task.query.range(above: task.offset, upTo: upper)
        let label = task.label, cursor = PostgresSource.cursor
        try await source.client.withConnection { connection in
            connection.rollbackIfNeeded()
            try connection.execute("BEGIN READ ONLY", operation: "read \(label)")
            do {
                try connection.query("DECLARE \(cursor) NO SCROLL CURSOR FOR \(select)", parameters, operation: "read \(label)")
            } catch {
                connection.rollbackIfNeeded()  // leave the connection usable for the next probe
                throw error
            }
        }
        range = RangeRead(key: key, upper: upper, delivered: task.offset)
        return try await nextPage()
    }

    /// Rows asked for by one FETCH: whole pages, about this many rows. A page
    /// of Connect's 100 rows per round trip (and per hop to the connection's
    /// thread) would leave Postgres and the producer waiting on each other.
    static let rowsPerFetch = 1_000

    /// The next page of the range, fetching and converting the next pages when
    /// none is left. After a restart, messages an earlier run already
    /// delivered are not sent again (see ``DeliveredRecords``); their
    /// positions still count once acknowledged.
    func nextPage() async throws -> SourceBatch<PagePosition> {
        if range!.converted.isEmpty { try await fetchPages() }
        let key = range!.key
        let page = range!.converted.removeFirst()
        var skipped: [Int: DeliveredRecords.Position] = [:]
        var messages = page.messages
        if tables[key]!.recovery.delivered != nil {
            messages = []
            for (index, message) in page.messages.enumerated() {
                if let report = tables[key]!.recovery.delivered!.take(message) {
                    skipped[index] = report
                } else {
                    messages.append(message)
                }
            }
        }
        let last = range!.polledAll
        let position = PagePosition(
            rows: page.messages.count, complete: page.complete, covered: page.covered, skipped: skipped,
            reachesBound: last && page.failure == nil)
        return SourceBatch(messages: messages, position: position, completesRange: last)
    }

    /// What one FETCH brought, converted.
    struct FetchedPages: Sendable {
        var pages: [TableTask.Page]
        /// The result was short: the range has no more rows.
        var exhausted: Bool
    }

    /// Takes the next rows of the range (converted ahead, or fetched now),
    /// then starts fetching and converting the rows after them.
    private func fetchPages() async throws {
        let fetched: FetchedPages
        if let ahead = range!.ahead {
            range!.ahead = nil
            fetched = try await ahead.value
        } else {
            fetched = try await Self.fetchRows(of: tables[range!.key]!, after: range!.previous, source: source)
        }
        let failure = fetched.pages.last!.failure
        range!.badRow = failure
        range!.previous = fetched.pages.last { $0.last != nil }?.last ?? range!.previous
        range!.fetchedAll = fetched.exhausted || failure != nil
        range!.converted = fetched.pages[...]
        if !range!.fetchedAll {
            let table = tables[range!.key]!, previous = range!.previous, source = source
            range!.ahead = Task { try await PostgresSourceTask.fetchRows(of: table, after: previous, source: source) }
        }
    }

    /// Waits for the rows being fetched ahead, if any, and drops them.
    func dropRowsAhead() async {
        guard let ahead = range?.ahead else { return }
        range!.ahead = nil
        _ = try? await ahead.value
    }

    /// One FETCH of `table`'s range: takes its result (sent ahead, or asked
    /// now), sends the next FETCH ahead when the result is full (Postgres
    /// reads it meanwhile), and converts the rows on the connection's thread
    /// into pages of `batch.max.rows`; `previous` is the last row before them.
    private static func fetchRows(of table: TableTask, after previous: SourceOffset?, source: PostgresSource) async throws -> FetchedPages {
        let pageSize = source.config.batchMaxRows
        let rows = pageSize * max(1, rowsPerFetch / pageSize)
        let fetch = "FETCH FORWARD \(rows) FROM \(PostgresSource.cursor)"
        let writers = try await source.writers(for: table)
        return try await source.client.withConnection { connection in
            let operation = "read \(table.label)"
            let result = try connection.takeAhead(fetch) ?? connection.query(fetch, operation: operation)
            let exhausted = result.rowCount < rows
            if !exhausted { try connection.sendAhead(fetch, operation: operation) }
            return FetchedPages(pages: try table.pages(from: result, after: previous, writers: writers, pageSize: pageSize), exhausted: exhausted)
        }
    }

    func sent(_ position: PagePosition, messages: Int, inFlight: Int) {
        // The empty page that ends a range is no send.
        guard position.rows > 0, let key = range?.key, let task = tables[key] else { return }
        source.events(.sent(table: task.label, topic: task.topic, rows: messages, pagesInFlight: inFlight))
    }

    /// Advances the offset and the Kafka positions over the acknowledged page:
    /// pages arrive oldest first, so both only cover what the broker has.
    func acknowledged(_ page: PagePosition, reports: [DeliveryReport]) {
        // Taken out while it changes, so its dictionaries are not copied.
        guard var range = self.range.take() else { return }
        defer { self.range = range }
        let key = range.key
        guard tables[key] != nil else { return }
        range.total += page.rows
        if tables[key]!.recovery.covered != nil {
            // Each row's position in Kafka: where it was sent now, or where the earlier run put it.
            var next = reports.lazy.map { DeliveredRecords.Position(partition: $0.partition, offset: $0.offset) }.makeIterator()
            let positions = (0..<page.rows).compactMap { page.skipped[$0] ?? next.next() }
            if config.mode != .bulk, page.complete != nil {
                Recovery.merge(&tables[key]!.recovery.covered!, range.uncovered)
                Recovery.advance(&tables[key]!.recovery.covered!, with: positions.prefix(page.covered))
                range.uncovered = [:]
                Recovery.advance(&range.uncovered, with: positions.dropFirst(page.covered))
            } else {
                Recovery.advance(&range.uncovered, with: positions)
            }
        }
        if config.mode != .bulk, let complete = page.complete { range.delivered = complete }
        if page.rows > 0 {
            source.events(.delivered(table: tables[key]!.label, topic: tables[key]!.topic, rows: reports.count, offset: range.delivered))
        }
        // The whole range was read: everything up to its bound is delivered.
        if page.reachesBound, let upper = range.upper {
            range.delivered = upper
            if tables[key]!.recovery.covered != nil { Recovery.merge(&tables[key]!.recovery.covered!, range.uncovered) }
        }
    }

    /// Stores the offset the acknowledgements reach, with the Kafka positions it covers.
    func commit() async throws {
        guard let range, tables[range.key] != nil else { return }
        try await source.storeOffset(&tables[range.key]!, range.delivered)
    }

    /// Ends the range whose pages were all acknowledged and committed: closes
    /// its transaction, throws the bad row it stopped at, and schedules the
    /// table (at once if the range was full, as more rows wait).
    func finishRange() async throws {
        guard let range else { return }
        self.range = nil
        if let badRow = range.badRow {
            _ = try? await source.client.withConnection { $0.rollbackIfNeeded() }
            throw badRow
        }
        try await source.client.withConnection { $0.rollbackIfNeeded() }
        let key = range.key
        let now = clock.now, poll = Duration.milliseconds(config.pollIntervalMilliseconds)
        if config.mode == .bulk {
            tables[key]?.phase = .idle(due: now + poll)
        } else if tables[key] != nil {
            let more = range.total >= min(config.batchMaxRows, config.maxRowsPerCycle)
            if let delivered = tables[key]!.recovery.delivered, !more || delivered.isEmpty {
                // Caught up: every row the crashed run had read has been read again.
                if !delivered.isEmpty {
                    source.logger.info("\(tables[key]!.label): \(delivered.count) record(s) delivered before the restart were not read again unchanged (rows changed or deleted since)")
                }
                tables[key]!.recovery.delivered = nil
            }
            tables[key]!.phase = .idle(due: more ? now : now + poll)
        }
        stepped(key)
    }
}
