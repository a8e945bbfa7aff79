import Logging
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// Builds connectors from Kafka Connect configs; this is the only place that
/// knows every stage, and it only composes them.
public enum ConnectorFactory {
    /// A sink's consumer settings: a worker runs each connector once, so its
    /// one task joins as a static member and, restarted after a crash, owns
    /// its partitions again at once. The worker's `consumer.group.instance.id`
    /// or the connector's `consumer.override.group.instance.id` win.
    public static func staticMember(_ spec: ConnectorSpec, _ context: WorkerContext) -> KafkaConfiguration {
        context.consumerConfiguration.staticMember(of: ConnectorSpec.sinkGroupID(connector: spec.name))
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
            let sink = try MySQLSink(
                properties: spec.properties, kafka: staticMember(spec, context),
                deadLetterKafka: context.producerConfiguration, logger: logger)
            return WorkerConnector(name: spec.name, role: kind.role, throughput: sink.throughput, run: sink.run)
        case .postgresCDC:
            let config = try PostgresCDCConfig(properties: spec.properties)
            return try source(spec, kind: kind, context: context) { producer in
                let source = PostgresCDCSource(
                    config: config, producer: producer, offsetStore: config.offsetFile == nil ? context.sharedOffsetStore : nil,
                    kafka: context.kafka, logger: logger)
                return (source.throughput, source.prepareTopics, source.run)
            }
        case .s3Sink:
            let throughput = Throughput(name: spec.name)
            let sink = try S3SinkConnector(properties: spec.properties, kafka: staticMember(spec, context), throughput: throughput, logger: logger)
            return WorkerConnector(name: spec.name, role: kind.role, throughput: throughput, run: sink.run)
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
