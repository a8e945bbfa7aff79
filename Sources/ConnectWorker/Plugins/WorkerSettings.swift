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
    /// The `https://` listener's certificate and key (`listeners.https.ssl.*`).
    public var https: TLSSettings?
    /// Distributed mode (`tributary connect`): all three topics and `group.id` set.
    public var distributed: DistributedStorage?

    /// Connect's distributed-mode storage: the internal topics holding
    /// connector configs and target states, source offsets and statuses.
    public struct DistributedStorage: Sendable, Equatable {
        public var groupID: String
        public var configTopic: String
        public var offsetTopic: String
        public var statusTopic: String
        /// Partitions of a created offset / status topic (Connect's defaults 25 and 5).
        public var offsetPartitions = 25
        public var statusPartitions = 5
        /// Replication of a created topic; -1 takes the broker's default.
        public var replicationFactor = -1
        /// The group membership's session (Connect's defaults, 10 s and 3 s).
        public var sessionTimeoutMilliseconds = 10_000
        public var heartbeatIntervalMilliseconds = 3_000

        public init(groupID: String, configTopic: String, offsetTopic: String, statusTopic: String) {
            self.groupID = groupID
            self.configTopic = configTopic
            self.offsetTopic = offsetTopic
            self.statusTopic = statusTopic
        }
    }

    public static let definition = ConfigDefinition(keys: [
        ConfigKey("bootstrap.servers", .list, default: "", doc: "Kafka brokers; empty starts the embedded cluster."),
        ConfigKey("offset.storage.file.filename", .string, default: "", doc: "Source offset file shared by every source (`tributary connect`: default `.tributary/connect/offsets.json`)."),
        ConfigKey("offset.flush.interval.ms", .long, default: "10000", doc: "Accepted; offsets are written after every acknowledged batch."),
        ConfigKey("plugin.path", .string, default: "", doc: "Accepted and ignored: connectors are built in."),
        ConfigKey("rest.port", .int, default: "8083", doc: "Accepted; `tributary connect` takes its address from `listeners`."),
        ConfigKey("listeners", .string, default: "", doc: "`tributary connect`: where the REST API listens, `http://HOST:PORT` or `https://HOST:PORT` (default `http://127.0.0.1:8083`; `http://0.0.0.0:8083` for every interface)."),
        ConfigKey("listeners.https.ssl.keystore.type", .string, default: "PEM", doc: "`tributary connect`, https listener: only PEM (Kafka's PEM keystore); convert a JKS or PKCS12 keystore with keytool/openssl.", validValues: ["PEM"]),
        ConfigKey("listeners.https.ssl.keystore.location", .string, default: "", doc: "`tributary connect`, https listener: a PEM file with the certificate chain (server certificate first) and, unless listeners.https.ssl.key.location is set, the private key."),
        ConfigKey("listeners.https.ssl.key.location", .string, default: "", doc: "`tributary connect`, https listener: a separate PEM private key file (tributary's key; Connect has none)."),
        ConfigKey("listeners.https.ssl.key.password", .password, default: "", doc: "`tributary connect`, https listener: the password of an encrypted private key."),
        ConfigKey("config.storage.file.filename", .string, default: "", doc: "`tributary connect`: the file keeping connector configs and target states (default: `connect-configs.json` next to the offset file)."),
        ConfigKey("rest.basic.auth.credentials.file", .string, default: "", doc: "`tributary connect`: HTTP basic auth for the REST API, one `user: password` per line; unset, no auth."),
        ConfigKey("group.id", .string, default: "", doc: "`tributary connect`, distributed mode: the worker group (one running worker per group, see docs/REST.md)."),
        ConfigKey("config.storage.topic", .string, default: "", doc: "`tributary connect`, distributed mode: the compacted 1-partition topic of connector configs and target states, in Connect's format."),
        ConfigKey("offset.storage.topic", .string, default: "", doc: "`tributary connect`, distributed mode: the compacted topic of source offsets, in Connect's format."),
        ConfigKey("status.storage.topic", .string, default: "", doc: "`tributary connect`, distributed mode: the compacted topic of connector and task statuses, in Connect's format."),
        ConfigKey("offset.storage.partitions", .int, default: "25", doc: "Partitions of the offset topic when the worker creates it."),
        ConfigKey("status.storage.partitions", .int, default: "5", doc: "Partitions of the status topic when the worker creates it."),
        ConfigKey("config.storage.replication.factor", .int, default: "-1", doc: "Replication of the internal topics the worker creates (-1: the broker's default)."),
        ConfigKey("session.timeout.ms", .int, default: "10000", doc: "Distributed mode: how long the group waits for a silent worker (a worker killed without leaving holds the group's connectors that long)."),
        ConfigKey("heartbeat.interval.ms", .int, default: "3000", doc: "Distributed mode: the worker's heartbeats to its group."),
        ConfigKey("offset.storage.replication.factor", .int, default: "-1", doc: "Accepted; the internal topics all take config.storage.replication.factor."),
        ConfigKey("status.storage.replication.factor", .int, default: "-1", doc: "Accepted; the internal topics all take config.storage.replication.factor."),
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
        settings.distributed = try distributedStorage(config)
        settings.https = config.explicit("listeners.https.ssl.keystore.location").map { chain in
            TLSSettings(
                certificateChainPath: chain, privateKeyPath: config.explicit("listeners.https.ssl.key.location"),
                keyPassword: config.explicit("listeners.https.ssl.key.password"))
        }
        // Top-level client settings (TLS, SASL) apply to every Kafka client, as in Connect.
        for prefix in ["security.", "ssl.", "sasl.", "client."] {
            for (key, value) in config.withPrefix(prefix) { settings.kafkaProperties[prefix + key] = value }
        }
        settings.producerProperties = config.withPrefix("producer.")
        settings.consumerProperties = config.withPrefix("consumer.")
        return settings
    }

    /// Distributed mode needs all of `group.id` and the three topics; some
    /// but not all of them is an error naming the missing ones.
    static func distributedStorage(_ config: ConnectorConfig) throws -> DistributedStorage? {
        let keys = ["group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"]
        let given = keys.filter { config.explicit($0)?.isEmpty == false }
        guard !given.isEmpty else { return nil }
        if let missing = keys.first(where: { !given.contains($0) }) {
            throw PipelineError.config(
                key: missing, reason: "distributed mode needs \(keys.joined(separator: ", ")); \(given.joined(separator: ", ")) given without it")
        }
        var storage = DistributedStorage(
            groupID: config.string("group.id"), configTopic: config.string("config.storage.topic"),
            offsetTopic: config.string("offset.storage.topic"), statusTopic: config.string("status.storage.topic"))
        storage.offsetPartitions = max(1, config.int("offset.storage.partitions"))
        storage.statusPartitions = max(1, config.int("status.storage.partitions"))
        storage.replicationFactor = config.int("config.storage.replication.factor")
        storage.sessionTimeoutMilliseconds = max(1_000, config.int("session.timeout.ms"))
        storage.heartbeatIntervalMilliseconds = max(100, min(config.int("heartbeat.interval.ms"), storage.sessionTimeoutMilliseconds / 3))
        if Set([storage.configTopic, storage.offsetTopic, storage.statusTopic]).count < 3 {
            throw PipelineError.config(key: "config.storage.topic", reason: "config, offset and status storage need three different topics")
        }
        return storage
    }
}
