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
        case .postgresCDC: PostgresCDCConfig.definition
        }
    }

    /// Checks `config` the way building the connector would, without
    /// connecting anywhere; throws ``PipelineError`` naming the key at fault.
    public func check(_ config: [String: String]) throws {
        switch self {
        case .postgresSource: _ = try PostgresSourceConfig(properties: config)
        case .mysqlSink: _ = try MySQLSinkConfig(properties: config)
        case .s3Sink: _ = try S3SinkConfig(properties: config)
        case .postgresCDC: _ = try PostgresCDCConfig(properties: config)
        }
    }

    /// A source's own offset file (`offset.storage.file.filename` in its
    /// config), if it names one; nil for sinks and for sources using the worker's.
    public func sourceOffsetFile(_ config: [String: String]) throws -> String? {
        switch self {
        case .postgresSource: try PostgresSourceConfig(properties: config).offsetFile
        case .postgresCDC: try PostgresCDCConfig(properties: config).offsetFile
        case .mysqlSink, .s3Sink: nil
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
