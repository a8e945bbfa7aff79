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
            let throughput = Throughput(name: spec.name)
            let tasksMax = ConnectorSpec.tasksMax(spec.properties)
            // As Connect's JDBC source: the listed tables split into contiguous groups, one task each.
            let shares = config.query == nil && tasksMax > 1 ? WorkerTask.share(config.whitelist, among: tasksMax) : [config.whitelist]
            // One offset store for all tasks: two stores on one file would lose each other's writes.
            var store: (any OffsetStore)? = config.offsetFile == nil ? context.sharedOffsetStore : nil
            var parts: [SourceParts] = []
            for (index, tables) in shares.enumerated() {
                var share = config
                share.whitelist = tables
                let shared = store
                parts.append(
                    try source(context: context) { producer in
                        let source = PostgresSource(
                            config: share, producer: producer, offsetStore: shared,
                            // Lets the source see what it delivered before a crash and not send it twice.
                            kafka: context.kafka, throughput: throughput, logger: tasksMax > 1 ? Logger(label: "tributary.\(spec.name)-\(index)") : logger)
                        store = source.offsetStore
                        return (source.prepareTopics, source.run)
                    })
            }
            let tasks = parts
            return WorkerConnector(
                name: spec.name, role: kind.role, throughput: throughput,
                prepare: { for task in tasks { try await task.prepare() } },
                tasks: { tasks.enumerated().map { WorkerTask(id: $0.offset, run: $0.element.run) } })
        case .mysqlSink:
            let config = try MySQLSinkConfig(properties: spec.properties)
            let throughput = Throughput(name: spec.name)
            let task: @Sendable (Int) throws -> WorkerTask = { index in
                let sink = try MySQLSink(
                    config: config, kafka: staticMember(spec, context, task: index), deadLetterKafka: context.producerConfiguration,
                    throughput: throughput, logger: logger)
                return WorkerTask(id: index, run: sink.run)
            }
            return try sink(spec, kind: kind, throughput: throughput, topics: config.topics, topicsRegex: config.topicsRegex, context: context, task: task)
        case .postgresCDC:
            let config = try PostgresCDCConfig(properties: spec.properties)
            var throughput: Throughput?
            let task = try source(context: context) { producer in
                let source = PostgresCDCSource(
                    config: config, producer: producer, offsetStore: config.offsetFile == nil ? context.sharedOffsetStore : nil,
                    kafka: context.kafka, logger: logger)
                throughput = source.throughput
                return (source.prepareTopics, source.run)
            }
            return WorkerConnector(name: spec.name, role: kind.role, throughput: throughput!, prepare: task.prepare, run: task.run)
        case .s3Sink:
            let config = try S3SinkConfig(properties: spec.properties)
            let throughput = Throughput(name: spec.name)
            let task: @Sendable (Int) throws -> WorkerTask = { index in
                let sink = try S3SinkConnector(config: config, kafka: staticMember(spec, context, task: index), throughput: throughput, logger: logger)
                return WorkerTask(id: index, run: sink.run)
            }
            return try sink(spec, kind: kind, throughput: throughput, topics: config.topics, topicsRegex: nil, context: context, task: task)
        }
    }

    /// A sink connector of min(`tasks.max`, partitions) tasks in one consumer
    /// group, which splits the partitions among them (each partition owned
    /// by one task at a time; a revoked one is closed as for any rebalance).
    private static func sink(
        _ spec: ConnectorSpec, kind: ConnectorKind, throughput: Throughput, topics: [String], topicsRegex: String?,
        context: WorkerContext, task: @escaping @Sendable (Int) throws -> WorkerTask
    ) throws -> WorkerConnector {
        let tasksMax = ConnectorSpec.tasksMax(spec.properties)
        // Built now, so a bad config (or missing credentials) fails here rather than once the connector starts.
        let first = try task(0)
        return WorkerConnector(name: spec.name, role: kind.role, throughput: throughput) {
            let count = await SinkPartitions.taskCount(tasksMax: tasksMax, topics: topics, topicsRegex: topicsRegex, context: context)
            return try [first] + (1..<count).map(task)
        }
    }

    /// What ``source(context:make:)`` needs of a source task: its topic preparation and its run.
    typealias SourceParts = (prepare: @Sendable () async throws -> Void, run: @Sendable () async throws -> Void)

    /// A source task on a producer of its own, closed once the source's run ends.
    private static func source(context: WorkerContext, make: (KafkaProducer) throws -> SourceParts) throws -> SourceParts {
        let producer = try KafkaProducer(configuration: context.producerConfiguration)
        let parts = try make(producer)
        return (
            parts.prepare,
            {
                try await parts.run()
                await producer.close()
            }
        )
    }
}
