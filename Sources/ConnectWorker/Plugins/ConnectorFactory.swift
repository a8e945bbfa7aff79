import Logging
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// Builds connectors from Kafka Connect configs; this is the only place that
/// knows every stage, and it only composes them.
public enum ConnectorFactory {
    /// A sink task's consumer settings: each task of a connector joins its
    /// group as a static member of its own (`connect-<name>-<task>`) and,
    /// restarted after a crash, owns its partitions again at once. The
    /// worker's `consumer.group.instance.id` or the connector's
    /// `consumer.override.group.instance.id` win (for one task).
    public static func staticMember(_ spec: ConnectorSpec, _ context: WorkerContext, task: Int = 0) -> KafkaConfiguration {
        context.consumerConfiguration.staticMember(of: ConnectorSpec.sinkGroupID(connector: spec.name), task: task)
    }

    /// Builds the connector `spec` describes; a bad config throws ``PipelineError`` naming the key.
    public static func make(_ spec: ConnectorSpec, context: WorkerContext) throws -> WorkerConnector {
        let kind = try ConnectorKind(className: spec.properties["connector.class"] ?? "")
        let logger = Logger(label: "tributary.\(spec.name)")
        switch kind {
        case .postgresSource:
            let config = try PostgresSourceConfig(properties: spec.properties)
            return try source(spec, kind: kind, context: context) { producer in
                let source = PostgresSource(
                    config: config, producer: producer, offsetStore: config.offsetFile == nil ? context.sharedOffsetStore : nil,
                    // Lets the source see what it delivered before a crash and not send it twice.
                    kafka: context.kafka, logger: logger)
                return (source.throughput, source.prepareTopics, source.run)
            }
        case .mysqlSink:
            let config = try MySQLSinkConfig(properties: spec.properties)
            let throughput = Throughput(name: spec.name)
            let task: @Sendable (Int) throws -> WorkerTask = { index in
                let sink = try MySQLSink(
                    config: config, kafka: staticMember(spec, context, task: index), deadLetterKafka: context.producerConfiguration,
                    throughput: throughput, logger: logger)
                return WorkerTask(id: index, run: sink.run)
            }
            _ = try task(0)  // a bad config fails here, not once the connector starts
            return sink(spec, kind: kind, throughput: throughput, topics: config.topics, topicsRegex: config.topicsRegex, context: context, task: task)
        case .postgresCDC:
            let config = try PostgresCDCConfig(properties: spec.properties)
            return try source(spec, kind: kind, context: context) { producer in
                let source = PostgresCDCSource(
                    config: config, producer: producer, offsetStore: config.offsetFile == nil ? context.sharedOffsetStore : nil,
                    kafka: context.kafka, logger: logger)
                return (source.throughput, source.prepareTopics, source.run)
            }
        case .s3Sink:
            let config = try S3SinkConfig(properties: spec.properties)
            let throughput = Throughput(name: spec.name)
            let task: @Sendable (Int) throws -> WorkerTask = { index in
                let sink = try S3SinkConnector(config: config, kafka: staticMember(spec, context, task: index), throughput: throughput, logger: logger)
                return WorkerTask(id: index, run: sink.run)
            }
            _ = try task(0)
            return sink(spec, kind: kind, throughput: throughput, topics: config.topics, topicsRegex: nil, context: context, task: task)
        }
    }

    /// A sink connector of min(`tasks.max`, partitions) tasks in one consumer
    /// group, which splits the partitions among them (each partition owned
    /// by one task at a time; a revoked one is closed as for any rebalance).
    private static func sink(
        _ spec: ConnectorSpec, kind: ConnectorKind, throughput: Throughput, topics: [String], topicsRegex: String?,
        context: WorkerContext, task: @escaping @Sendable (Int) throws -> WorkerTask
    ) -> WorkerConnector {
        let tasksMax = max(1, Int(spec.properties["tasks.max"] ?? "1") ?? 1)
        return WorkerConnector(name: spec.name, role: kind.role, throughput: throughput) {
            let count = await SinkPartitions.taskCount(tasksMax: tasksMax, topics: topics, topicsRegex: topicsRegex, context: context)
            return try (0..<count).map(task)
        }
    }

    /// What ``source(_:kind:context:make:)`` needs of a source: its count, its topic preparation and its run.
    typealias SourceParts = (
        throughput: Throughput, prepare: @Sendable () async throws -> Void, run: @Sendable () async throws -> Void
    )

    /// A source connector on a producer of its own, closed once the source's run ends.
    private static func source(
        _ spec: ConnectorSpec, kind: ConnectorKind, context: WorkerContext, make: (KafkaProducer) throws -> SourceParts
    ) throws -> WorkerConnector {
        let producer = try KafkaProducer(configuration: context.producerConfiguration)
        let parts = try make(producer)
        return WorkerConnector(
            name: spec.name, role: kind.role, throughput: parts.throughput, prepare: parts.prepare,
            run: {
                try await parts.run()
                await producer.close()
            })
    }
}
