import Foundation
import Logging
import PipelineCore

/// Kafka Connect's JDBC sink for MySQL and MariaDB, exactly once.
///
/// `run()` consumes the configured topics as the consumer group
/// `connect-<name>`, writes each poll as one MySQL transaction together with
/// the offsets it covers (``MySQLRecordWriter``), then commits the offsets to
/// Kafka — only as a courtesy for tools that read group lag: on partition
/// assignment the sink seeks to the offsets stored in MySQL.
///
/// ```swift
/// let sink = try MySQLSink(properties: [
///     "name": "users-to-mysql", "topics": "P_USERS",
///     "connection.url": "jdbc:mysql://127.0.0.1:3306/TEST", "connection.user": "app",
///     "connection.password": "${env:MYSQL_PASSWORD}", "auto.create": "true",
/// ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:9092"))
/// try await sink.run()   // until the task is cancelled
/// ```
public final class MySQLSink: Sendable {
    /// The validated sink settings.
    public let config: MySQLSinkConfig
    /// The cluster and client settings of the consumer.
    public let kafka: KafkaConfiguration
    /// The cluster and client settings of the dead-letter producer.
    public let deadLetterKafka: KafkaConfiguration
    /// Records consumed and committed so far (for progress lines).
    public let throughput: Throughput
    private let logger: Logger

    /// `kafka` is the cluster to consume from, `deadLetterKafka` (default:
    /// the same) the one dead letters go to; `consumer.override.*` and
    /// `producer.override.*` from the config are applied on top of them.
    /// `throughput` (default: a new one) counts the records; tasks of one connector share one.
    public init(
        config: MySQLSinkConfig, kafka: KafkaConfiguration, deadLetterKafka: KafkaConfiguration? = nil,
        throughput: Throughput? = nil, logger: Logger = Logger(label: "tributary.mysql-sink")
    ) throws {
        try config.validate()
        self.config = config
        self.kafka = kafka
        self.deadLetterKafka = deadLetterKafka ?? kafka
        self.throughput = throughput ?? Throughput(name: config.name)
        self.logger = logger
        for notice in config.ignoredKeyNotices { logger.notice("\(notice)") }
        for topic in config.topics + [config.deadLetterTopic].compactMap({ $0 }) {
            if let problem = TopicName.problem(topic) { logger.warning("\(problem); a real Kafka cluster will refuse it") }
        }
    }

    /// A sink from Kafka Connect JDBC sink properties (unknown keys are
    /// errors); `${env:VAR}` references are read from `environment`.
    public convenience init(
        properties: [String: String], kafka: KafkaConfiguration, deadLetterKafka: KafkaConfiguration? = nil,
        environment: [String: String] = ProcessEnvironment.current, logger: Logger = Logger(label: "tributary.mysql-sink")
    ) throws {
        try self.init(
            config: try MySQLSinkConfig(properties: properties, environment: environment), kafka: kafka,
            deadLetterKafka: deadLetterKafka, logger: logger)
    }

    /// Consumes and writes until the surrounding task is cancelled; then the
    /// batch in hand is finished and committed, and `run` returns. Throws on
    /// a bad record (unless `errors.tolerance=all`) naming its topic,
    /// partition and offset, or when retries are exhausted.
    ///
    /// The sink is a ``MySQLRecordWriter`` on PipelineCore's `SinkRunner`:
    /// the next batch is decoded while this one is written, a cooperative
    /// rebalance keeps retained partitions flowing while others move
    /// (exactly-once does not depend on it: every newly assigned partition
    /// seeks to its offset stored in MySQL), and Kafka commits are sent
    /// without waiting (while the group coordinator is away a synchronous
    /// commit would hold every batch for seconds).
    public func run() async throws {
        let writer = MySQLRecordWriter(config: config, logger: logger)
        let runner = SinkRunner(settings: runnerSettings(), throughput: throughput, logger: logger)
        try await runner.run(MySQLSinkTask(writer: writer, logger: logger))
    }

    private func runnerSettings() -> SinkRunnerSettings {
        let topics = config.topicsRegex.map { [TopicsRegex.anchored($0)] } ?? config.topics
        let consumer = kafka.with(config.consumerProperties).withDefaults(["partition.assignment.strategy": "cooperative-sticky"])
        var deadLetters: SinkRunnerSettings.DeadLetters?
        if config.toleratesErrors, let topic = config.deadLetterTopic {
            deadLetters = .init(topic: topic, connectorName: config.name, kafka: deadLetterKafka.with(config.producerProperties))
        }
        return SinkRunnerSettings(
            groupID: config.groupID, topics: topics, consumer: consumer, deadLetters: deadLetters,
            maxRecords: config.batchSize, pollTimeout: .milliseconds(500), commits: .advisory)
    }

    /// Offsets stored in MySQL for the connector's group, read over a
    /// connection of its own (blocking; call it off the cooperative pool).
    static func storedOffsets(_ config: MySQLSinkConfig) throws -> [TopicPartition: Int64] {
        // One try: the consumer retries the whole assignment while MySQL is away.
        let session = MySQLSession(options: config.connection)
        defer { session.disconnect() }
        try session.connect()
        return try MySQLOffsetTable(table: TableRef(name: config.offsetsTable), groupID: config.groupID).load(session)
    }
}
