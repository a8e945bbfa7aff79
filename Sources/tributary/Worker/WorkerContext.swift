import Logging
import PipelineCore
import PostgresSource

/// What every connector in a worker shares: where Kafka is and where
/// source offsets live.
struct WorkerContext: Sendable {
    var kafka: KafkaConfiguration
    var producerProperties: [String: String]
    var consumerProperties: [String: String]
    /// Shared by every source when the worker names one offset file.
    var sharedOffsetStore: FileOffsetStore?
    var logger: Logger

    var producerConfiguration: KafkaConfiguration { kafka.with(producerProperties) }
    var consumerConfiguration: KafkaConfiguration { kafka.with(consumerProperties) }
}

/// A connector built from its config, ready to run.
struct ConnectorInstance: Sendable {
    var name: String
    var kind: ConnectorKind
    /// Records handled, for progress lines.
    var throughput: Throughput
    var run: @Sendable () async throws -> Void
    /// Work to do before any connector of the worker runs (a source creates its topics).
    var prepare: (@Sendable () async throws -> Void)? = nil
    /// The in-process cluster the connector uses, when it is one (see ``StartOrder``).
    var embedded: EmbeddedKafka? = nil
}

/// The connector classes this worker runs, by their Kafka Connect class names.
enum ConnectorKind: String, Sendable, CaseIterable {
    case postgresSource = "io.confluent.connect.jdbc.JdbcSourceConnector"
    case mysqlSink = "io.confluent.connect.jdbc.JdbcSinkConnector"
    case s3Sink = "io.confluent.connect.s3.S3SinkConnector"

    /// Accepts the full class name or its last component.
    init(className: String) throws {
        let short = className.split(separator: ".").last.map(String.init) ?? className
        guard let kind = ConnectorKind.allCases.first(where: { $0.rawValue == className || $0.rawValue.hasSuffix("." + short) }) else {
            throw PipelineError.config(
                key: "connector.class",
                reason: "'\(className)' is not supported; use one of: \(ConnectorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }
}
