import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

extension ConnectorKind {
    /// The keys this connector takes (without the common ones).
    public var definition: ConfigDefinition {
        switch self {
        case .postgresSource: PostgresSourceConfig.definition
        case .mysqlSink: MySQLSinkConfig.definition
        case .s3Sink: S3SinkConfig.definition
        }
    }

    /// `source` or `sink`, as Connect's REST API names a connector's type.
    public var typeName: String { role == .source ? "source" : "sink" }

    /// The plugin named in a URL (`/connector-plugins/{class}/…`): the full
    /// class name or its last component; nil for an unknown plugin.
    public static func plugin(named name: String) -> ConnectorKind? {
        try? ConnectorKind(className: name)
    }
}
