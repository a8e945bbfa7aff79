import Logging
import PipelineCore

/// Log-based change data capture from PostgreSQL, as Debezium's PostgreSQL
/// connector does it: an initial snapshot, then the changes of a logical
/// replication slot (pgoutput) as Debezium change events (see
/// ``ChangeEventWriter``), one topic per table, `<topic.prefix>.<schema>.<table>`.
///
/// - The slot is created when missing, exporting a snapshot that the initial
///   snapshot reads (REPEATABLE READ, `SET TRANSACTION SNAPSHOT`): the stream
///   then starts exactly where the snapshot ends, with no gap and no duplicate.
/// - The slot is confirmed (standby status update) only up to changes the
///   broker acknowledged and whose position is stored in the offset store;
///   a restart resumes there, skipping what was delivered (``CDCPosition``).
/// - A slot that was dropped, recreated or invalidated is an error
///   (``CDCError``), never a silent re-snapshot.
/// - With `heartbeat.interval.ms`, heartbeat records let an idle slot's
///   `confirmed_flush_lsn` follow the server's WAL, so the slot releases WAL.
/// - libpq runs on dedicated threads (the replication stream has its own).
///
/// `run()` streams until its task is cancelled, then waits for the batches in
/// flight, stores and confirms their position, and returns.
public final class PostgresCDCSource: Sendable {
    public let config: PostgresCDCConfig
    public let producer: KafkaProducer
    public let offsetStore: any OffsetStore
    /// Where `producer` writes; used only to create topics on the embedded broker (``prepareTopics()``).
    public let kafka: KafkaConfiguration?
    /// Counts the records the broker acknowledged (heartbeats included).
    public let throughput: Throughput
    let client: PostgresClient
    let logger: Logger

    /// - Parameters:
    ///   - offsetStore: defaults to a ``FileOffsetStore`` at `offset.storage.file.filename`,
    ///     or `.tributary/offsets/<name>.json`.
    ///   - kafka: the configuration `producer` was made with, for ``prepareTopics()``.
    public init(config: PostgresCDCConfig, producer: KafkaProducer, offsetStore: (any OffsetStore)? = nil, kafka: KafkaConfiguration? = nil,
                logger: Logger = Logger(label: "tributary.source.postgres-cdc")) {
        self.config = config
        self.producer = producer
        self.kafka = kafka
        self.offsetStore = offsetStore ?? FileOffsetStore(path: config.offsetFile ?? ".tributary/offsets/\(config.name).json")
        self.throughput = Throughput(name: config.name)
        self.client = PostgresClient(settings: config.connection, name: config.name, logger: logger)
        self.logger = logger
        for notice in config.ignoredKeyNotices { logger.notice("\(notice)") }
    }

    /// Reads Debezium PostgreSQL connector properties (see ``PostgresCDCConfig/init(properties:environment:)``).
    public convenience init(properties: [String: String], producer: KafkaProducer, offsetStore: (any OffsetStore)? = nil,
                            kafka: KafkaConfiguration? = nil, logger: Logger = Logger(label: "tributary.source.postgres-cdc")) throws {
        self.init(config: try PostgresCDCConfig(properties: properties), producer: producer, offsetStore: offsetStore, kafka: kafka, logger: logger)
    }

    /// Snapshots (as `snapshot.mode` says), then streams until cancelled.
    /// Throws configuration errors and slot problems (``CDCError``) at
    /// startup; connection loss is retried with capped exponential backoff.
    public func run() async throws {
        let runner = SourceRunner(
            producer: producer, throughput: throughput, metrics: ConnectorMetrics(connector: config.name), logger: logger)
        try await runner.run(makeTask())
    }

    /// The capture as a task for a ``SourceRunner`` that sends with `producer` (what ``run()`` does).
    public func makeTask() -> some SourceTask {
        CDCTask(source: self)
    }

    /// The offset store key of this connector's position.
    var offsetKey: String { "\(config.name)/cdc" }

    /// Where heartbeats go: `<heartbeat.topics.prefix>.<topic.prefix>`, as Debezium names it.
    public var heartbeatTopic: String { "\(config.heartbeatTopicsPrefix).\(config.topicPrefix)" }

    /// The topic of `schema.table`'s change events (characters Kafka refuses become `_`).
    public func topic(schema: String, table: String) -> String { CapturedTable.topicName("\(config.topicPrefix).\(schema).\(table)") }
}
