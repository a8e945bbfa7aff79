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
    public init(
        config: MySQLSinkConfig, kafka: KafkaConfiguration, deadLetterKafka: KafkaConfiguration? = nil,
        logger: Logger = Logger(label: "tributary.mysql-sink")
    ) throws {
        try config.validate()
        self.config = config
        self.kafka = kafka
        self.deadLetterKafka = deadLetterKafka ?? kafka
        self.throughput = Throughput(name: config.name)
        self.logger = logger
        for notice in config.ignoredKeyNotices { logger.notice("\(notice)") }
        for topic in config.topics + [config.deadLetterTopic].compactMap({ $0 }) {
            if let problem = TopicName.problem(topic) { logger.warning("\(problem); a real Kafka cluster will refuse it") }
        }
    }

    /// A sink from Kafka Connect JDBC sink properties (unknown keys are errors).
    public convenience init(
        properties: [String: String], kafka: KafkaConfiguration, deadLetterKafka: KafkaConfiguration? = nil,
        logger: Logger = Logger(label: "tributary.mysql-sink")
    ) throws {
        let validated = try ConnectorConfig(properties, definition: MySQLSinkConfig.definition)
        try self.init(config: try MySQLSinkConfig(validated), kafka: kafka, deadLetterKafka: deadLetterKafka, logger: logger)
    }

    /// Consumes and writes until the surrounding task is cancelled; then the
    /// batch in hand is finished and committed, and `run` returns. Throws on
    /// a bad record (unless `errors.tolerance=all`) naming its topic,
    /// partition and offset, or when retries are exhausted.
    public func run() async throws {
        let producer = try deadLetterProducer()
        let limit = DeadLetterQueue.maxRecordBytes(for: deadLetterKafka.with(config.producerProperties))
        let deadLetters = producer.map {
            DeadLetterQueue(topic: config.deadLetterTopic!, connectorName: config.name, producer: $0, maxRecordBytes: limit)
        }
        let writer = MySQLRecordWriter(config: config, deadLetters: deadLetters, logger: logger)
        var consumer: KafkaConsumer?
        do {
            try await writer.prepare()
            let active = try await makeConsumer()
            consumer = active
            try await consume(active, writer: writer)
        } catch {
            await shutDown(consumer, writer, producer)
            // A cancelled wait (backoff, reconnect) is the graceful stop: the
            // uncommitted batch is read again on restart, nothing is lost.
            if Task.isCancelled && error is CancellationError { return }
            throw error
        }
        await shutDown(consumer, writer, producer)
    }

    private func consume(_ consumer: KafkaConsumer, writer: MySQLRecordWriter) async throws {
        var total = 0
        while !Task.isCancelled {
            let messages = try await consumer.poll(maxMessages: config.batchSize, timeout: .milliseconds(500))
            guard !messages.isEmpty else { continue }
            let result = try await writer.write(messages)
            total += result.written
            throughput.add(messages.count)
            do {
                // Not waited for: while the group coordinator is away a
                // synchronous commit would hold every batch for seconds.
                try await consumer.commit(result.nextOffsets, waitForBroker: false)
            } catch {
                // Advisory only: MySQL holds the offsets that count.
                logger.warning("Kafka offset commit failed; offsets are safe in MySQL", metadata: ["error": "\(error)"])
            }
            logger.debug("batch written", metadata: [
                "records": "\(messages.count)", "written": "\(result.written)", "skipped": "\(result.skipped)",
                "failed": "\(result.failed)", "total": "\(total)",
            ])
        }
    }

    private func shutDown(_ consumer: KafkaConsumer?, _ writer: MySQLRecordWriter, _ producer: KafkaProducer?) async {
        await consumer?.close()
        await writer.close()
        await producer?.close()
    }

    private func deadLetterProducer() throws -> KafkaProducer? {
        guard config.toleratesErrors, config.deadLetterTopic != nil else { return nil }
        return try KafkaProducer(configuration: deadLetterKafka.with(config.producerProperties), logger: logger)
    }

    private func makeConsumer() async throws -> KafkaConsumer {
        let config = self.config
        let logger = self.logger
        let hooks = RebalanceHooks(assigned: { partitions in
            // On the consumer's own thread, so blocking MySQL calls are fine here.
            let stored = try MySQLSink.storedOffsets(config)
            let resume = stored.filter { partitions.contains($0.key) }
            if !resume.isEmpty {
                logger.info("resuming from offsets stored in MySQL", metadata: ["offsets": "\(resume.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" })"])
            }
            return resume
        })
        let topics = config.topicsRegex.map { [Self.anchoredRegex($0)] } ?? config.topics
        // Cooperative rebalancing keeps the partitions a member retains
        // flowing while others move; exactly-once does not depend on it, as
        // every newly assigned partition seeks to its offset stored in MySQL.
        let configuration = await KafkaConfiguration(
            bootstrapServers: kafka.bootstrapServers,
            properties: ["partition.assignment.strategy": "cooperative-sticky"])
            .with(kafka.with(config.consumerProperties).properties)
            .forGroupMember()
        return try KafkaConsumer(
            configuration: configuration, groupID: config.groupID, topics: topics, hooks: hooks, logger: logger)
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

    /// Connect matches `topics.regex` against the whole topic name; librdkafka
    /// subscribes to names matching a `^`-prefixed POSIX regex anywhere.
    static func anchoredRegex(_ regex: String) -> String {
        var body = Substring(regex)
        if body.hasPrefix("^") { body = body.dropFirst() }
        if body.hasSuffix("$") { body = body.dropLast() }
        return "^(\(body))$"
    }
}
