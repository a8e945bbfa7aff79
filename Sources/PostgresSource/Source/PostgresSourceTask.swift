import PipelineCore

/// ``PostgresSource``'s table cycles as a ``SourceTask``: the runner sends,
/// awaits acknowledgements and decides when to commit; this decides what to
/// read and when.
///
/// Tables are stepped in passes, in name order, each due table once per pass:
/// a probe, a check of the commit fence (``CommitFence``), or a range read.
/// A range is read through a cursor in one transaction, one page
/// (`batch.max.rows` rows) per poll; each FETCH brings several pages
/// (``rowsPerFetch``), the next FETCH sent before they are converted; its last
/// page ``SourceBatch/completesRange``,
/// so the runner waits for every page of it and commits before the next step.
/// After a pass, the runner waits until the next table is due.
///
/// Failures are the table's: an outage of either side delays it with capped
/// exponential backoff (the other tables go on), a table or column that went
/// away sends the source back to the catalog, anything else stops the source.
final class PostgresSourceTask: SourceTask {
    let source: PostgresSource
    let clock = ContinuousClock()
    var tables: [String: TableTask] = [:]
    /// Errors already logged by discovery (each is logged once).
    var reported: Set<String> = []
    var nextDiscovery: ContinuousClock.Instant
    var retry: RetryLoop
    /// The tables still to step in the current pass; nil between passes.
    var pass: [String]?
    /// When the next pass is due: the earliest table, or the next discovery.
    var wake: ContinuousClock.Instant
    /// The table being stepped or read: a failure is its.
    var current: String?
    /// The range being read, if any.
    var range: RangeRead?

    init(source: PostgresSource) {
        self.source = source
        nextDiscovery = clock.now
        wake = clock.now
        retry = RetryLoop(waitingFor: "PostgreSQL and Kafka", logger: source.logger, backoff: source.outageBackoff)
    }

    var config: PostgresSourceConfig { source.config }

    /// Connects and describes the configured tables; a missing table or an
    /// unusable column stops the source here.
    func start() async throws {
        try await source.client.connect(policy: source.connectPolicy)
        tables = try await source.discover(keeping: [:], strict: true, reported: &reported)
        nextDiscovery = clock.now + .milliseconds(config.tablePollIntervalMilliseconds)
    }

    func stop() async {
        await dropRowsAhead()
        await source.client.close()
    }

    func poll() async throws -> SourcePoll<PagePosition> {
        if let range {
            guard range.polledAll else { return .batch(try await nextPage()) }
            // The runner acknowledged and committed every page of the range.
            try await finishRange()
        }
        if pass == nil {
            if clock.now >= nextDiscovery {
                tables = try await source.retryingDiscovery(keeping: tables, reported: &reported)
                nextDiscovery = clock.now + .milliseconds(config.tablePollIntervalMilliseconds)
            }
            pass = tables.keys.sorted()
            wake = nextDiscovery
        }
        while !Task.isCancelled, let key = pass?.first {
            pass?.removeFirst()
            guard tables[key] != nil else { continue }
            current = key
            if let page = try await step(key) { return .batch(page) }
            stepped(key)
        }
        pass = nil
        return .idle(until: wake)
    }

    /// `key`'s step ended well: its next due time counts for the pass.
    func stepped(_ key: String) {
        retry.succeeded()
        current = nil
        if let due = tables[key]?.due { wake = min(wake, due) }
    }

    /// Runs one due step of a table: probe, check the fence, or open a range
    /// (returning its first page).
    func step(_ key: String) async throws -> SourceBatch<PagePosition>? {
        guard tables[key]!.due <= clock.now else { return nil }
        if tables[key]!.recovery.pending { try await source.recover(&tables[key]!) }
        let poll = Duration.milliseconds(config.pollIntervalMilliseconds)
        switch tables[key]!.phase {
        case .idle:
            if config.mode == .bulk { return try await openRange(key, upTo: nil) }
            guard let (upper, writers) = try await source.probe(&tables[key]!) else {
                tables[key]!.phase = .idle(due: clock.now + poll)
                return nil
            }
            if writers.isEmpty { return try await openRange(key, upTo: upper) }
            let label = tables[key]!.label
            source.logger.debug("\(label): waiting for \(writers.count) writer(s) before reading up to \(upper)")
            source.events(.waitingForWriters(table: label, writers: writers.count, upTo: upper))
            ConnectorMetrics.current?.waitedForFence()
            tables[key]!.phase = .fenced(upper: upper, writers: writers, due: clock.now + .milliseconds(2), retry: .milliseconds(2))
            return nil
        case .fenced(let upper, let writers, _, let retry):
            if try await source.pendingWriters(writers, scope: tables[key]!.scope) == 0 {
                return try await openRange(key, upTo: upper)
            }
            // Back off up to a fraction of the poll interval: a long transaction is checked rarely.
            let next = min(retry * 2, max(.milliseconds(5), min(poll / 4, .milliseconds(500))))
            tables[key]!.phase = .fenced(upper: upper, writers: writers, due: clock.now + next, retry: next)
            return nil
        }
    }

    /// A step failed: the range (if one was open) ends, and the error is
    /// waited out, sent back to discovery, or thrown.
    func failed(_ error: any Error, unsettled: Bool) async throws {
        await dropRowsAhead()
        if let range {
            self.range = nil
            // A broken connection ends the transaction on its own; otherwise end it here.
            _ = try? await source.client.withConnection { $0.rollbackIfNeeded() }
            // Pages past the acknowledged prefix may be in Kafka: find them
            // before the next read (``Recovery``) rather than send them twice.
            if unsettled && tables[range.key]?.recovery.covered != nil { tables[range.key]!.recovery.pending = true }
        }
        if error is CancellationError { return }  // graceful stop
        guard let key = current, tables[key] != nil else { throw error }
        current = nil
        switch error {
        case let error where PostgresSource.isRetriable(error):
            // An outage of either side is waited out; the range is read
            // and sent again from the stored offset.
            let delay = retry.delayAfterFailure(PipelineError.other("\(tables[key]!.label): \(error)"))
            tables[key]!.phase = .idle(due: clock.now + delay)
        case PostgresError.statement(_, let state, _) where state == "42P01" || state == "42703":
            // The table or a column went away: look at the catalog again.
            source.logger.warning("\(tables[key]!.label) changed; describing it again")
            nextDiscovery = clock.now
            tables[key]!.phase = .idle(due: clock.now + .milliseconds(config.pollIntervalMilliseconds))
        default:
            throw error
        }
        wake = min(wake, tables[key]!.due)
    }
}

extension TableTask {
    var due: ContinuousClock.Instant {
        switch phase {
        case .idle(let due): return due
        case .fenced(_, _, let due, _): return due
        }
    }
}
