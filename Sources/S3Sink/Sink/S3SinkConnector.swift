import Foundation
import Logging
import PipelineCore

/// The S3 sink as a running service: a consumer-group member that archives
/// its topics to S3 with Confluent's object layout.
///
/// Offsets are committed only after the objects holding the records are
/// completely uploaded, synchronously, one batch per partition at a time;
/// with deterministic partitioners every record ends up in exactly one
/// object even across crashes (see ``PartitionWriter``).
///
/// ```swift
/// let sink = try S3SinkConnector(config: config, kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:9092"))
/// try await sink.run()   // until cancelled
/// ```
public final class S3SinkConnector: Sendable {
    /// The sink's configuration.
    public let config: S3SinkConfig
    /// The Kafka connection (the consumer group is ``S3SinkConfig/groupID``).
    public let kafka: KafkaConfiguration
    private let client: S3Client
    /// Kept by the running task (``S3SinkTask``), read by ``statistics``.
    private let progress = Locked(S3SinkStatistics())
    private let throughput: Throughput?
    private let logger: Logger

    /// A sink for `config`, reading through `kafka`.
    ///
    /// - Parameters:
    ///   - throughput: counts every consumed record, for progress lines.
    ///   - logger: notices (ignored keys) and one line per skipped or dead-lettered record.
    /// - Throws: `PipelineError.config` for inconsistent settings, or
    ///   `CredentialsError` when no credentials are configured or in the environment.
    public init(
        config: S3SinkConfig, kafka: KafkaConfiguration, throughput: Throughput? = nil,
        environment: [String: String] = ProcessEnvironment.current, logger: Logger = Logger(label: "tributary.s3-sink")
    ) throws {
        try config.validate()
        // Eager rebalancing: a commit refused by a rebalance drops every open
        // file and waits for every partition to be revoked and to resume at
        // its committed offset (``S3SinkTask``). Under the cooperative
        // protocol retained partitions are never revoked, so the records
        // dropped meanwhile would be skipped.
        if let strategy = kafka.properties["partition.assignment.strategy"], strategy.contains("cooperative") {
            throw PipelineError.config(
                key: "partition.assignment.strategy",
                reason: "'\(strategy)': the S3 sink needs an eager strategy (range, roundrobin) for exactly-once")
        }
        self.config = config
        self.kafka = kafka
        self.throughput = throughput
        self.logger = logger
        self.client = try S3Client(configuration: config.clientConfiguration(environment: environment))
        for notice in config.ignoredKeyNotices { logger.notice("\(notice)") }
        for topic in config.topics + [config.deadLetterTopic].compactMap({ $0 }) {
            if let problem = TopicName.problem(topic) { logger.warning("\(problem); a real Kafka cluster will refuse it") }
        }
    }

    /// A sink from Confluent S3 sink connector properties (a connector
    /// JSON's `config`), as a Connect worker would start it.
    ///
    /// - Throws: `PipelineError.config` naming the key at fault, or
    ///   `CredentialsError` when no credentials are configured or in the environment.
    public convenience init(
        properties: [String: String], kafka: KafkaConfiguration, throughput: Throughput? = nil,
        environment: [String: String] = ProcessEnvironment.current, logger: Logger = Logger(label: "tributary.s3-sink")
    ) throws {
        try self.init(
            config: S3SinkConfig(properties: properties, environment: environment), kafka: kafka, throughput: throughput,
            environment: environment, logger: logger)
    }

    /// Counters since the sink was made, over every `run()`.
    public var statistics: S3SinkStatistics { progress.value }

    /// Checks that the bucket exists and the credentials may use it.
    public func checkBucket() async throws {
        try await client.headBucket(bucket: config.bucket)
    }

    /// Consumes and archives until cancelled (graceful shutdown) or a
    /// non-retriable failure. On the way out, open files are dropped, not
    /// uploaded: their records are read again from the committed offsets.
    ///
    /// The sink is an ``S3SinkTask`` on PipelineCore's `SinkRunner`: the
    /// next batch is decoded while this one is written and uploaded, and a
    /// commit refused by a rebalance drops every open file until the
    /// partitions are revoked.
    public func run() async throws {
        try await checkBucket()
        var deadLetters: SinkRunnerSettings.DeadLetters?
        if config.toleratesErrors, let topic = config.deadLetterTopic {
            deadLetters = .init(topic: topic, connectorName: config.name, kafka: kafka)
        }
        let settings = SinkRunnerSettings(
            groupID: config.groupID, topics: config.topics, consumer: kafka, deadLetters: deadLetters,
            maxRecords: 1000, pollTimeout: .milliseconds(200), commits: .synchronous)
        let task = try S3SinkTask(config: config, client: client, commit: nil, counters: progress, logger: logger)
        try await SinkRunner(settings: settings, throughput: throughput, logger: logger).run(task)
    }
}
