import Logging
import PipelineCore
import PostgresSource

/// What every connector in a worker shares: where Kafka is and where
/// source offsets live.
public struct WorkerContext: Sendable {
    public var kafka: KafkaConfiguration
    public var producerProperties: [String: String]
    public var consumerProperties: [String: String]
    /// Shared by every source: the worker's offset file, or (distributed) its offset topic.
    public var sharedOffsetStore: (any WorkerOffsetStore)?
    public var logger: Logger

    public init(
        kafka: KafkaConfiguration, producerProperties: [String: String], consumerProperties: [String: String],
        sharedOffsetStore: (any WorkerOffsetStore)?, logger: Logger
    ) {
        self.kafka = kafka
        self.producerProperties = producerProperties
        self.consumerProperties = consumerProperties
        self.sharedOffsetStore = sharedOffsetStore
        self.logger = logger
    }

    public var producerConfiguration: KafkaConfiguration { kafka.with(producerProperties) }
    public var consumerConfiguration: KafkaConfiguration { kafka.with(consumerProperties) }
}

/// The connector classes this worker runs, by their Kafka Connect class names.
public enum ConnectorKind: String, Sendable, CaseIterable {
    case postgresSource = "io.confluent.connect.jdbc.JdbcSourceConnector"
    case mysqlSink = "io.confluent.connect.jdbc.JdbcSinkConnector"
    case s3Sink = "io.confluent.connect.s3.S3SinkConnector"
    /// Log-based CDC (pgoutput), with Debezium's keys and change events.
    case postgresCDC = "io.debezium.connector.postgresql.PostgresConnector"

    /// Whether the connector reads from Kafka or writes into it.
    public var role: WorkerConnector.Role { self == .postgresSource || self == .postgresCDC ? .source : .sink }

    /// Accepts the full class name or its last component.
    public init(className: String) throws {
        let short = className.split(separator: ".").last.map(String.init) ?? className
        guard let kind = ConnectorKind.allCases.first(where: { $0.rawValue == className || $0.rawValue.hasSuffix("." + short) }) else {
            throw PipelineError.config(
                key: "connector.class",
                reason: "'\(className)' is not supported; use one of: \(ConnectorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }
}
