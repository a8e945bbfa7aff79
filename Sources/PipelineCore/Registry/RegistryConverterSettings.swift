/// The settings of a Schema Registry converter (`key.converter` or
/// `value.converter` = `io.confluent.connect.avro.AvroConverter` or
/// `io.confluent.connect.json.JsonSchemaConverter`), from its
/// `key.converter.*` / `value.converter.*` keys as Confluent names them.
public struct RegistryConverterSettings: Sendable, Hashable {
    /// Confluent's converter classes.
    public static let avroConverterClass = "io.confluent.connect.avro.AvroConverter"
    public static let jsonSchemaConverterClass = "io.confluent.connect.json.JsonSchemaConverter"

    /// What the payload after the wire-format header is.
    public enum Format: Sendable, Hashable {
        /// Avro binary (AvroConverter).
        case avro
        /// JSON with a JSON Schema (JsonSchemaConverter).
        case jsonSchema
    }

    public var format: Format

    /// `schema.registry.url`: one or more base URLs.
    public var urls: [String]
    /// `basic.auth.user.info` (`user:password`) when `basic.auth.credentials.source=USER_INFO`.
    public var userInfo: Secret?
    /// `auto.register.schemas`: register the schemas written (default true).
    public var autoRegister: Bool
    /// `use.latest.version`: write with the subject's latest schema (with `auto.register.schemas=false`).
    public var useLatestVersion: Bool
    /// `key.subject.name.strategy` or `value.subject.name.strategy`.
    public var subjectNameStrategy: SubjectNameStrategy

    public init(
        format: Format = .avro, urls: [String], userInfo: Secret? = nil, autoRegister: Bool = true, useLatestVersion: Bool = false,
        subjectNameStrategy: SubjectNameStrategy = .topicName
    ) {
        self.format = format
        self.urls = urls
        self.userInfo = userInfo
        self.autoRegister = autoRegister
        self.useLatestVersion = useLatestVersion
        self.subjectNameStrategy = subjectNameStrategy
    }

    /// The settings of the key's (`isKey`) or value's converter, or nil when it is not a registry converter.
    public static func from(_ config: ConnectorConfig, isKey: Bool) throws(PipelineError) -> RegistryConverterSettings? {
        let side = isKey ? "key" : "value"
        let prefix = "\(side).converter"
        let format: Format
        switch config.string(prefix) {
        case avroConverterClass: format = .avro
        case jsonSchemaConverterClass: format = .jsonSchema
        default: return nil
        }
        let className = config.string(prefix)
        let urls = config.list("\(prefix).schema.registry.url")
        guard !urls.isEmpty else {
            throw PipelineError.config(key: "\(prefix).schema.registry.url", reason: "\(className) needs the registry's URL")
        }
        var userInfo: Secret?
        let source = config.string("\(prefix).basic.auth.credentials.source").uppercased()
        switch source {
        case "", "URL":
            break
        case "USER_INFO":
            let info = config.secret("\(prefix).basic.auth.user.info")
            guard info.value.contains(":") else {
                throw PipelineError.config(key: "\(prefix).basic.auth.user.info", reason: "must be user:password with basic.auth.credentials.source=USER_INFO")
            }
            userInfo = info
        default:
            throw PipelineError.config(key: "\(prefix).basic.auth.credentials.source", reason: "'\(source)' is not supported (USER_INFO or URL)")
        }
        let strategyKey = "\(prefix).\(side).subject.name.strategy"
        let strategyName = config.string(strategyKey)
        guard let strategy = strategyName.isEmpty ? .topicName : SubjectNameStrategy(className: strategyName) else {
            throw PipelineError.config(key: strategyKey, reason: "'\(strategyName)' is not TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy")
        }
        let settings = RegistryConverterSettings(
            format: format, urls: urls, userInfo: userInfo, autoRegister: config.bool("\(prefix).auto.register.schemas"),
            useLatestVersion: config.bool("\(prefix).use.latest.version"), subjectNameStrategy: strategy)
        if settings.useLatestVersion && settings.autoRegister {
            throw PipelineError.config(key: "\(prefix).use.latest.version", reason: "needs \(prefix).auto.register.schemas=false, as in Confluent's serializers")
        }
        return settings
    }

    /// `key.converter` and `value.converter` for a connector that takes the
    /// registry converters (they replace the common, JSON-only definitions).
    public static let converterKeys: [ConfigKey] = [
        ConfigKey("key.converter", .class, default: "org.apache.kafka.connect.json.JsonConverter",
                  doc: "JsonConverter, StringConverter, or Confluent's AvroConverter or JsonSchemaConverter (with key.converter.schema.registry.url).",
                  validValues: ["org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.storage.StringConverter",
                                avroConverterClass, jsonSchemaConverterClass]),
        ConfigKey("value.converter", .class, default: "org.apache.kafka.connect.json.JsonConverter",
                  doc: "JsonConverter, or Confluent's AvroConverter or JsonSchemaConverter (with value.converter.schema.registry.url).",
                  validValues: ["org.apache.kafka.connect.json.JsonConverter", avroConverterClass, jsonSchemaConverterClass]),
    ]

    /// Whether `className` is one of Confluent's registry converters.
    public static func isRegistryConverter(_ className: String?) -> Bool {
        className == avroConverterClass || className == jsonSchemaConverterClass
    }

    /// The keys of the `key` or `value` side's AvroConverter, defined when that side uses it.
    public static func configKeys(side: String) -> [ConfigKey] {
        let prefix = "\(side).converter"
        return [
            ConfigKey("\(prefix).schema.registry.url", .list, default: "", doc: "AvroConverter or JsonSchemaConverter: the Schema Registry's URL(s)."),
            ConfigKey("\(prefix).auto.register.schemas", .boolean, default: "true", doc: "AvroConverter: register the schemas written."),
            ConfigKey("\(prefix).use.latest.version", .boolean, default: "false", doc: "AvroConverter: write with the subject's latest schema (needs auto.register.schemas=false)."),
            ConfigKey("\(prefix).\(side).subject.name.strategy", .class, default: "io.confluent.kafka.serializers.subject.TopicNameStrategy",
                      doc: "AvroConverter: the subject a schema is registered under: TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy.",
                      validValues: SubjectNameStrategy.allCases.map(\.rawValue)),
            ConfigKey("\(prefix).basic.auth.credentials.source", .string, default: "URL", doc: "AvroConverter: USER_INFO sends basic.auth.user.info.",
                      validValues: ["USER_INFO", "URL"]),
            ConfigKey("\(prefix).basic.auth.user.info", .password, default: "", doc: "AvroConverter: user:password for the registry."),
        ]
    }
}
