import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// Checks a connector config the way building it would, without connecting
/// anywhere: an unknown `connector.class`, an unknown key or an invalid value
/// is a 400 naming the key (``PipelineError``'s message).
enum ConnectorChecks {
    /// The connector's kind, once `config` is valid for it. `${env:…}`
    /// references are resolved for the check only; the config is kept as given.
    static func validate(_ config: [String: String]) throws(ConnectRestError) -> ConnectorKind {
        do {
            let kind = try ConnectorKind(className: config["connector.class"] ?? "")
            try kind.check(config)
            return kind
        } catch let error as PipelineError {
            throw .badRequest("Connector configuration is invalid: \(error)")
        } catch {
            throw .badRequest("Connector configuration is invalid: \(error)")
        }
    }

    /// The topics a connector writes or reads, as `GET /connectors/{name}/topics`
    /// reports them: a sink's `topics`; a source's `topic.prefix` and each
    /// table of `table.whitelist` (or the prefix alone with `query`).
    static func topics(_ config: [String: String], kind: ConnectorKind) -> [String] {
        func list(_ key: String) -> [String] {
            (config[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        switch kind {
        case .mysqlSink, .s3Sink:
            return list("topics")
        case .postgresSource:
            let prefix = config["topic.prefix"] ?? ""
            if !(config["query"] ?? "").isEmpty { return [prefix] }
            return list("table.whitelist").map { prefix + ($0.split(separator: ".").last.map(String.init) ?? $0) }
        case .postgresCDC:
            // `<topic.prefix>.<schema>.<table>` per listed table (the list may hold regexes: as given).
            let prefix = config["topic.prefix"] ?? ""
            return list("table.include.list").map { "\(prefix).\($0)" }
        }
    }
}
