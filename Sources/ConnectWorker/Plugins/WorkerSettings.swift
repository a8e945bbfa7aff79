import Foundation
import PipelineCore

/// Worker-level settings, as Connect standalone's worker.properties holds them.
public struct WorkerSettings: Sendable {
    public init() {}

    /// Nil: start the embedded Kafka cluster in this process.
    public var bootstrapServers: String?
    /// librdkafka properties for every client (`producer.`/`consumer.` prefixed
    /// keys of a worker file apply to one side only).
    public var kafkaProperties: [String: String] = [:]
    public var producerProperties: [String: String] = [:]
    public var consumerProperties: [String: String] = [:]
    /// `offset.storage.file.filename`: one file all sources share; nil gives
    /// each source its own `.tributary/offsets/<connector>.json`.
    public var offsetStorageFile: String?
    /// `config.storage.file.filename` (`tributary connect`).
    public var configStorageFile: String?
    /// `listeners` (`tributary connect`).
    public var listeners: String?
    /// `rest.basic.auth.credentials.file` (`tributary connect`).
    public var credentialsFile: String?

    public static let definition = ConfigDefinition(keys: [
        ConfigKey("bootstrap.servers", .list, default: "", doc: "Kafka brokers; empty starts the embedded cluster."),
        ConfigKey("offset.storage.file.filename", .string, default: "", doc: "Source offset file shared by every source (`tributary connect`: default `.tributary/connect/offsets.json`)."),
        ConfigKey("offset.flush.interval.ms", .long, default: "10000", doc: "Accepted; offsets are written after every acknowledged batch."),
        ConfigKey("plugin.path", .string, default: "", doc: "Accepted and ignored: connectors are built in."),
        ConfigKey("rest.port", .int, default: "8083", doc: "Accepted; `tributary connect` takes its address from `listeners`."),
        ConfigKey("listeners", .string, default: "", doc: "`tributary connect`: where the REST API listens, `http://HOST:PORT` (default `http://127.0.0.1:8083`; `http://0.0.0.0:8083` for every interface). https is not supported."),
        ConfigKey("config.storage.file.filename", .string, default: "", doc: "`tributary connect`: the file keeping connector configs and target states (default: `connect-configs.json` next to the offset file)."),
        ConfigKey("rest.basic.auth.credentials.file", .string, default: "", doc: "`tributary connect`: HTTP basic auth for the REST API, one `user: password` per line; unset, no auth."),
    ], passthroughPrefixes: ["producer.", "consumer.", "security.", "ssl.", "sasl.", "client."],
    ignoredKeys: [
        // Connect needs its providers declared; here both are always on.
        IgnoredKey("config.providers", reason: "${env:NAME} and ${file:PATH:KEY} are always resolved"),
        IgnoredKey("config.providers.*", reason: "${env:NAME} and ${file:PATH:KEY} are always resolved"),
    ])

    /// Reads a Java-properties worker file (`key=value`, `#` comments).
    public static func load(path: String) throws -> WorkerSettings {
        let text = String(decoding: try ConnectorFiles.read(path), as: UTF8.self)
        var properties: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!") else { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw PipelineError.config(key: line, reason: "expected key=value")
            }
            properties[line[..<sep].trimmingCharacters(in: .whitespaces)] = line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)
        }
        let config = try ConnectorConfig(properties, definition: definition)
        var settings = WorkerSettings()
        let servers = config.list("bootstrap.servers")
        settings.bootstrapServers = servers.isEmpty ? nil : servers.joined(separator: ",")
        settings.offsetStorageFile = config.explicit("offset.storage.file.filename")
        settings.configStorageFile = config.explicit("config.storage.file.filename")
        settings.listeners = config.explicit("listeners")
        settings.credentialsFile = config.explicit("rest.basic.auth.credentials.file")
        // Top-level client settings (TLS, SASL) apply to every Kafka client, as in Connect.
        for prefix in ["security.", "ssl.", "sasl.", "client."] {
            for (key, value) in config.withPrefix(prefix) { settings.kafkaProperties[prefix + key] = value }
        }
        settings.producerProperties = config.withPrefix("producer.")
        settings.consumerProperties = config.withPrefix("consumer.")
        return settings
    }
}
