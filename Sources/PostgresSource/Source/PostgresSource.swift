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
///   about a thousand rows at a time (sent in pages of `batch.max.rows`), and
///   each cycle covers at most `maxRowsPerCycle` rows.
/// - All libpq calls run on the client's own thread.
/// - Sending is PipelineCore's ``SourceRunner``: many pages in flight, offsets
///   stored over the longest acknowledged prefix; the table cycles are its
///   ``SourceTask`` (``makeTask()``).
///
/// `run()` polls until its task is cancelled, then waits for the pages in
/// flight, stores the offset they reach and returns (graceful shutdown).
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
    let keyConverter: SourceConverter
    let valueConverter: SourceConverter
    /// Counts the records the broker acknowledged (not those skipped after a restart).
    public let throughput: Throughput
    /// Topics this source made sure of (see ``ensureTopic(_:)``).
    let ensuredTopics = Locked<Set<String>>([])
    static let cursor = "\"tributary_source_cursor\""

    /// - Parameters:
    ///   - producer: where records go (with many pages awaiting acknowledgement at once).
    ///   - offsetStore: defaults to a ``FileOffsetStore`` at `offset.storage.file.filename`,
    ///     or `.tributary/offsets/<name>.json`.
    ///   - kafka: the configuration `producer` was made with. With it, stored offsets
    ///     carry Kafka positions and a restart after a crash skips the records the
    ///     crashed run delivered but had not recorded (effectively-once, see
    ///     ``DeliveredRecords``); without it, such records are sent again.
    ///   - throughput: counts the records sent (default: a new one); the tasks
    ///     of one connector, each with its share of the tables, share one.
    ///   - events: called after every page handed to the producer and every page
    ///     the broker acknowledged, and when a cycle waits for open transactions
    ///     (for progress displays; keep it fast).
    public init(
        config: PostgresSourceConfig, producer: KafkaProducer, offsetStore: (any OffsetStore)? = nil,
        kafka: KafkaConfiguration? = nil, throughput: Throughput? = nil,
        logger: Logger = Logger(label: "tributary.source.postgres"), events: @escaping @Sendable (SourceEvent) -> Void = { _ in }
    ) {
        self.config = config
        self.producer = producer
        self.offsetStore = offsetStore ?? FileOffsetStore(path: config.offsetFile ?? ".tributary/offsets/\(config.name).json")
        self.kafka = kafka
        self.client = PostgresClient(settings: config.connection, name: config.name, logger: logger)
        self.logger = logger
        self.events = events
        self.throughput = throughput ?? Throughput(name: config.name)
        self.keyConverter = SourceConverter(isKey: true, schemasEnabled: config.keySchemasEnabled, registry: config.keyRegistry)
        self.valueConverter = SourceConverter(isKey: false, schemasEnabled: config.valueSchemasEnabled, registry: config.valueRegistry)
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
        let runner = SourceRunner(
            producer: producer, throughput: throughput, metrics: ConnectorMetrics(connector: config.name), logger: logger)
        try await runner.run(makeTask())
    }

    /// The table cycles as a task for a ``SourceRunner`` that sends with
    /// `producer` (what ``run()`` does). One run at a time per source.
    public func makeTask() -> some SourceTask {
        PostgresSourceTask(source: self)
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
