/// The type of a connector property, as Connect's ConfigDef types them.
public enum ConfigType: String, Sendable {
    case string, int, long, double, boolean, list, password, `class`
}

/// One property a connector accepts: its Connect name, type, default and doc.
public struct ConfigKey: Sendable {
    public var name: String
    public var type: ConfigType
    /// Nil means the key is required.
    public var defaultValue: String?
    public var doc: String
    /// When set, the value must be one of these (compared case-insensitively).
    public var validValues: [String]?

    public init(_ name: String, _ type: ConfigType, default defaultValue: String?, doc: String, validValues: [String]? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
        self.validValues = validValues
    }

    /// True for keys whose values must never be shown.
    public var isSecret: Bool { type == .password || ConfigKey.looksSecret(name) }

    /// Heuristic for keys outside a definition (passed-through client properties).
    public static func looksSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("password") || lower.contains("secret") || lower.contains("sasl.jaas") || lower.hasSuffix(".key")
            || lower.contains("token") || lower.contains("credentials")
    }
}

/// Keys Kafka Connect accepts that have no effect here either: accepted, left
/// out of the validated properties, and reported once as a notice, so a
/// connector JSON written for Connect runs unchanged.
///
/// Only true no-ops belong here. A key that changes what Connect does (a
/// converter option such as `schemas.cache.size`, `transforms`,
/// `header.converter`, `config.action.reload`) stays an error.
public struct IgnoredKey: Sendable {
    /// The key; each `*` stands for one or more characters.
    public var pattern: String
    /// Why it has no effect, for the notice.
    public var reason: String

    public init(_ pattern: String, reason: String) {
        self.pattern = pattern
        self.reason = reason
    }

    /// True when `key` matches ``pattern``.
    public func matches(_ key: String) -> Bool {
        IgnoredKey.glob(Array(pattern.utf8)[...], Array(key.utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        guard first == UInt8(ascii: "*") else {
            return text.first == first && glob(pattern.dropFirst(), text.dropFirst())
        }
        // `*` takes at least one character.
        var rest = text
        while !rest.isEmpty {
            rest = rest.dropFirst()
            if glob(pattern.dropFirst(), rest) { return true }
        }
        return false
    }

    /// Connect's keys that are no-ops for every connector here.
    public static let connectNoOps: [IgnoredKey] = {
        let internalConverter = "removed in Kafka Connect 3.0 (internal converters are always JsonConverter); Connect ignores it too"
        let registry = "used only by Schema Registry converters (AvroConverter); JsonConverter ignores it as Connect's does"
        return [
            IgnoredKey("internal.key.converter", reason: internalConverter),
            IgnoredKey("internal.value.converter", reason: internalConverter),
            IgnoredKey("internal.key.converter.*", reason: internalConverter),
            IgnoredKey("internal.value.converter.*", reason: internalConverter),
            // Not any `*.subject.name.strategy`: under `transforms.` it would hide a transform.
            // With AvroConverter on that side these are its keys (ConnectorConfig defines them).
            IgnoredKey("key.converter.*.subject.name.strategy", reason: registry),
            IgnoredKey("value.converter.*.subject.name.strategy", reason: registry),
            IgnoredKey("key.subject.name.strategy", reason: registry),
            IgnoredKey("value.subject.name.strategy", reason: registry),
            IgnoredKey("key.converter.schema.registry.url", reason: registry),
            IgnoredKey("value.converter.schema.registry.url", reason: registry),
            IgnoredKey("key.converter.auto.register.schemas", reason: registry),
            IgnoredKey("value.converter.auto.register.schemas", reason: registry),
            IgnoredKey("key.converter.use.latest.version", reason: registry),
            IgnoredKey("value.converter.use.latest.version", reason: registry),
            IgnoredKey("key.converter.basic.auth.*", reason: registry),
            IgnoredKey("value.converter.basic.auth.*", reason: registry),
        ]
    }()
}

/// A set of keys a connector accepts.
public struct ConfigDefinition: Sendable {
    public var keys: [ConfigKey]
    /// Prefixes whose keys pass through unchecked (for example `kafka.` for librdkafka properties).
    public var passthroughPrefixes: [String]
    /// Keys accepted without effect (see ``IgnoredKey``).
    public var ignoredKeys: [IgnoredKey]

    public init(keys: [ConfigKey], passthroughPrefixes: [String] = [], ignoredKeys: [IgnoredKey] = []) {
        self.keys = keys
        self.passthroughPrefixes = passthroughPrefixes
        self.ignoredKeys = ignoredKeys
    }

    /// The no-op entry matching `key`, if any. A defined key is never ignored.
    public func ignoredKey(matching key: String) -> IgnoredKey? {
        guard self.key(named: key) == nil else { return nil }
        return ignoredKeys.first { $0.matches(key) }
    }

    /// This definition plus the keys every Connect connector accepts.
    public func withCommonKeys() -> ConfigDefinition {
        var copy = self
        for key in ConfigDefinition.common.keys where !copy.keys.contains(where: { $0.name == key.name }) {
            copy.keys.append(key)
        }
        copy.passthroughPrefixes += ConfigDefinition.common.passthroughPrefixes
        copy.ignoredKeys += ConfigDefinition.common.ignoredKeys
        return copy
    }

    public func key(named name: String) -> ConfigKey? {
        keys.first { $0.name == name }
    }

    /// Keys shared by every connector (worker-level and error-handling keys).
    public static let common = ConfigDefinition(keys: [
        ConfigKey("name", .string, default: "", doc: "Connector name."),
        ConfigKey("connector.class", .class, default: "", doc: "Which connector to run."),
        ConfigKey("tasks.max", .int, default: "1", doc: "Most tasks: a sink runs min(tasks.max, partitions) consumer-group members, the JDBC source splits table.whitelist among min(tasks.max, tables) tasks; the CDC source runs one."),
        ConfigKey("key.converter", .class, default: "org.apache.kafka.connect.json.JsonConverter",
                  doc: "JsonConverter or StringConverter; the JDBC source and sink also take Confluent's AvroConverter.",
                  validValues: ["org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.storage.StringConverter"]),
        ConfigKey("value.converter", .class, default: "org.apache.kafka.connect.json.JsonConverter",
                  doc: "JsonConverter; the JDBC source and sink and the S3 sink also take Confluent's AvroConverter.",
                  validValues: ["org.apache.kafka.connect.json.JsonConverter"]),
        ConfigKey("key.converter.schemas.enable", .boolean, default: "true", doc: "Write/read the key as a schema+payload envelope."),
        ConfigKey("value.converter.schemas.enable", .boolean, default: "true", doc: "Write/read the value as a schema+payload envelope."),
        ConfigKey("errors.tolerance", .string, default: "none", doc: "Sinks: none stops at the first bad record, naming it; all sends it to the dead-letter topic (or logs and skips it without one). The source always stops at a row it cannot convert, naming table, row and column (as Connect's JDBC source).",
                  validValues: ["none", "all"]),
        ConfigKey("errors.deadletterqueue.topic.name", .string, default: "", doc: "Dead-letter topic for bad records (sinks)."),
        ConfigKey("errors.deadletterqueue.topic.replication.factor", .int, default: "3", doc: "Replication of the dead-letter topic."),
        ConfigKey("errors.deadletterqueue.context.headers.enable", .boolean, default: "false", doc: "Add the error context headers (always added here)."),
        ConfigKey("errors.log.enable", .boolean, default: "false", doc: "Log each tolerated error."),
        ConfigKey("errors.log.include.messages", .boolean, default: "false", doc: "Include the record in that log line."),
        ConfigKey("errors.retry.timeout", .long, default: "0", doc: "How long to retry a failed operation, in ms (-1 forever)."),
        ConfigKey("errors.retry.delay.max.ms", .long, default: "60000", doc: "Cap of the retry backoff."),
    ], passthroughPrefixes: ["kafka.", "producer.override.", "consumer.override."], ignoredKeys: IgnoredKey.connectNoOps)
}
