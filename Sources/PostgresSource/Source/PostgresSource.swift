import Logging
import PipelineCore

/// Kafka Connect's JDBC source for PostgreSQL: polls tables (or a query) in
/// `bulk`, `incrementing`, `timestamp` or `timestamp+incrementing` mode and
/// produces one Connect JSON record per row to `<topic.prefix><table>`, keyed
/// by the primary key.
///
/// - Delivery: a table's offset is stored only after the broker acknowledged
///   every record it covers, so a restart resumes without loss (at-least-once).
///   Given its Kafka configuration (`kafka:`), the offset also records the
///   Kafka positions it covers, and a restart after a crash skips the rows the
///   dead process had delivered but not yet recorded, so nothing is produced
///   twice (effectively-once; see ``DeliveredRecords``).
/// - Out-of-order commits lose nothing: each cycle is fenced, see ``CommitFence``.
/// - Memory stays bounded for any backlog: rows are read through a cursor,
///   `batch.max.rows` at a time, and each cycle covers at most `maxRowsPerCycle` rows.
/// - All libpq calls run on the client's own thread.
///
/// `run()` polls until its task is cancelled, then finishes the batch in
/// hand, stores the offset and returns (graceful shutdown).
public final class PostgresSource: Sendable {
    public let config: PostgresSourceConfig
    public let producer: KafkaProducer
    public let offsetStore: any OffsetStore
    /// Where `producer` writes, for reading back what an earlier run delivered
    /// (see ``DeliveredRecords``); nil: no recovery, at-least-once across crashes.
    public let kafka: KafkaConfiguration?
    let client: PostgresClient
    let logger: Logger
    let events: @Sendable (SourceEvent) -> Void
    let keyConverter: JsonConverter
    let valueConverter: JsonConverter
    /// Topics this source made sure of (see ``ensureTopic(_:)``).
    let ensuredTopics = Locked<Set<String>>([])
    static let cursor = "\"tributary_source_cursor\""

    /// - Parameters:
    ///   - producer: where records go; `send` must return only once the broker acknowledged them.
    ///   - offsetStore: defaults to a ``FileOffsetStore`` at `offset.storage.file.filename`,
    ///     or `.tributary/offsets/<name>.json`.
    ///   - kafka: the configuration `producer` was made with. With it, stored offsets
    ///     carry Kafka positions and a restart after a crash skips the records the
    ///     crashed run delivered but had not recorded (effectively-once, see
    ///     ``DeliveredRecords``); without it, such records are sent again.
    ///   - events: called after every batch the broker acknowledged, and when a
    ///     cycle waits for open transactions (for progress displays; keep it fast).
    public init(
        config: PostgresSourceConfig, producer: KafkaProducer, offsetStore: (any OffsetStore)? = nil,
        kafka: KafkaConfiguration? = nil,
        logger: Logger = Logger(label: "tributary.source.postgres"), events: @escaping @Sendable (SourceEvent) -> Void = { _ in }
    ) {
        self.config = config
        self.producer = producer
        self.offsetStore = offsetStore ?? FileOffsetStore(path: config.offsetFile ?? ".tributary/offsets/\(config.name).json")
        self.kafka = kafka
        self.client = PostgresClient(settings: config.connection, name: config.name, logger: logger)
        self.logger = logger
        self.events = events
        self.keyConverter = JsonConverter(schemasEnabled: config.keySchemasEnabled)
        self.valueConverter = JsonConverter(schemasEnabled: config.valueSchemasEnabled)
        for notice in config.ignoredKeyNotices { logger.notice("\(notice)") }
        if !config.connection.ignoredParameters.isEmpty {
            logger.warning("ignoring JDBC URL parameters without a libpq equivalent: \(config.connection.ignoredParameters.joined(separator: ", "))")
        }
        if !config.topicCreationGroups.isEmpty {
            logger.notice("topic.creation.groups is ignored: every topic is created with the topic.creation.default.* settings")
        }
        if kafka == nil && config.mode != .bulk {
            logger.notice("no Kafka configuration given: rows delivered but not yet recorded when the process dies are sent again after a restart")
        }
    }

    /// Polls until cancelled. Throws configuration errors (unknown table,
    /// missing or nullable key column, unmappable type) at startup, and any
    /// error that retrying cannot fix; connection loss and broker outages are
    /// retried with capped exponential backoff.
    public func run() async throws {
        do {
            try await poll()
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    func poll() async throws {
        try await client.connect(policy: connectPolicy)
        let clock = ContinuousClock()
        var reported: Set<String> = []
        var tasks = try await discover(keeping: [:], strict: true, reported: &reported)
        var nextDiscovery = clock.now + .milliseconds(config.tablePollIntervalMilliseconds)
        var retry = RetryLoop(waitingFor: "PostgreSQL and Kafka", logger: logger, backoff: outageBackoff)
        while !Task.isCancelled {
            if clock.now >= nextDiscovery {
                tasks = try await retryingDiscovery(keeping: tasks, reported: &reported)
                nextDiscovery = clock.now + .milliseconds(config.tablePollIntervalMilliseconds)
            }
            var wake = nextDiscovery
            for key in tasks.keys.sorted() {
                guard !Task.isCancelled, var task = tasks[key] else { break }
                do {
                    try await step(&task, clock: clock)
                    retry.succeeded()
                } catch let error where PostgresSource.isRetriable(error) {
                    // An outage of either side is waited out; the range is read
                    // and sent again from the stored offset.
                    let delay = retry.delayAfterFailure(PipelineError.other("\(task.label): \(error)"))
                    task.phase = .idle(due: clock.now + delay)
                } catch is CancellationError {
                    break  // graceful stop: the batch in hand was abandoned before its offset was stored
                } catch PostgresError.statement(_, let state, _) where state == "42P01" || state == "42703" {
                    // The table or a column went away: look at the catalog again.
                    logger.warning("\(task.label) changed; describing it again")
                    nextDiscovery = clock.now
                    task.phase = .idle(due: clock.now + .milliseconds(config.pollIntervalMilliseconds))
                }
                tasks[key] = task
                wake = min(wake, task.due)
            }
            do { try await clock.sleep(until: wake) } catch { break }
        }
    }

    /// Runs one due step of a table: probe, check the fence, or read a range.
    func step(_ task: inout TableTask, clock: ContinuousClock) async throws {
        guard task.due <= clock.now else { return }
        if task.recovery.pending { try await recover(&task) }
        let poll = Duration.milliseconds(config.pollIntervalMilliseconds)
        switch task.phase {
        case .idle:
            if config.mode == .bulk {
                _ = try await readRange(&task, upTo: nil)
                task.phase = .idle(due: clock.now + poll)
                return
            }
            guard let (upper, writers) = try await probe(&task) else {
                task.phase = .idle(due: clock.now + poll)
                return
            }
            if writers.isEmpty {
                try await readFenced(&task, upTo: upper, clock: clock)
            } else {
                logger.debug("\(task.label): waiting for \(writers.count) writer(s) before reading up to \(upper)")
                events(.waitingForWriters(table: task.label, writers: writers.count, upTo: upper))
                task.phase = .fenced(upper: upper, writers: writers, due: clock.now + .milliseconds(2), retry: .milliseconds(2))
            }
        case .fenced(let upper, let writers, _, let retry):
            if try await pendingWriters(writers, scope: task.scope) == 0 {
                try await readFenced(&task, upTo: upper, clock: clock)
            } else {
                // Back off up to a fraction of the poll interval: a long transaction is checked rarely.
                let next = min(retry * 2, max(.milliseconds(5), min(poll / 4, .milliseconds(500))))
                task.phase = .fenced(upper: upper, writers: writers, due: clock.now + next, retry: next)
            }
        }
    }

    /// Reads the fenced range, then polls again at once if it was full, else after the poll interval.
    func readFenced(_ task: inout TableTask, upTo upper: SourceOffset, clock: ContinuousClock) async throws {
        let rows = try await readRange(&task, upTo: upper)
        let more = rows >= min(config.batchMaxRows, config.maxRowsPerCycle)
        if let delivered = task.recovery.delivered, !more || delivered.isEmpty {
            // Caught up: every row the crashed run had read has been read again.
            if !delivered.isEmpty {
                logger.info("\(task.label): \(delivered.count) record(s) delivered before the restart were not read again unchanged (rows changed or deleted since)")
            }
            task.recovery.delivered = nil
        }
        task.phase = .idle(due: more ? clock.now : clock.now + .milliseconds(config.pollIntervalMilliseconds))
    }

    /// The first connection's retries: Connect's `connection.attempts` and `connection.backoff.ms`.
    var connectPolicy: RetryPolicy {
        RetryPolicy(
            maxAttempts: config.connectionAttempts,
            initialDelay: .milliseconds(min(500, max(1, config.connectionBackoffMilliseconds))),
            maxDelay: .milliseconds(max(1, config.connectionBackoffMilliseconds)))
    }

    /// How outages are waited out while running: ``Backoff/outage``, capped
    /// lower if `connection.backoff.ms` is below 2 s.
    var outageBackoff: Backoff { .outage(cappedAt: .milliseconds(max(1, config.connectionBackoffMilliseconds))) }

    static func isRetriable(_ error: Error) -> Bool {
        Retry.isRetriable(error)
    }
}

/// What ``PostgresSource`` reports while it runs. Tables are named `schema.table`, or `query`.
public enum SourceEvent: Sendable {
    /// The broker acknowledged `rows` records of `table`; `offset` is the position they complete.
    /// Rows skipped after a restart because an earlier run had delivered them are not counted.
    case delivered(table: String, topic: String, rows: Int, offset: SourceOffset?)
    /// `rows` records of `table` were handed to the producer; `pagesInFlight`
    /// pages (this one included) now await the broker's acknowledgement.
    case sent(table: String, topic: String, rows: Int, pagesInFlight: Int)
    /// A cycle waits for `writers` open transactions that may still commit rows up to `upTo` (see ``CommitFence``).
    case waitingForWriters(table: String, writers: Int, upTo: SourceOffset)
}

extension TableTask {
    var due: ContinuousClock.Instant {
        switch phase {
        case .idle(let due): return due
        case .fenced(_, _, let due, _): return due
        }
    }
}
