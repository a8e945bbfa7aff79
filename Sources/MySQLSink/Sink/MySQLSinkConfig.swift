import PipelineCore

/// Settings of the MySQL sink. Built from Kafka Connect JDBC sink properties
/// with ``init(properties:environment:)``, or filled in directly by library users; the defaults
/// are Connect's.
public struct MySQLSinkConfig: Sendable {
    /// `insert.mode`.
    public enum InsertMode: String, Sendable, CaseIterable {
        /// Plain INSERT; a duplicate key is an error (the record is poison).
        case insert
        /// `INSERT ... ON DUPLICATE KEY UPDATE`.
        case upsert
        /// `UPDATE ... WHERE key`; rows that do not exist are not created.
        case update
    }

    /// `pk.mode`: where the primary key comes from.
    public enum PrimaryKeyMode: String, Sendable, CaseIterable {
        case none
        /// `__connect_topic`, `__connect_partition`, `__connect_offset`.
        case kafka
        case recordKey = "record_key"
        case recordValue = "record_value"
    }

    /// The connector name (`name`), also used in dead-letter headers.
    public var name: String
    /// `connection.url`, `connection.user`, `connection.password`.
    public var connection: MySQLConnectionOptions
    /// `connection.attempts` and `connection.backoff.ms`.
    public var reconnect: ReconnectPolicy
    /// `topics`; empty when `topicsRegex` is used.
    public var topics: [String]
    /// `topics.regex`.
    public var topicsRegex: String?
    /// `table.name.format`: `${topic}` is replaced by the record's topic.
    public var tableNameFormat: String
    /// `insert.mode`.
    public var insertMode: InsertMode
    /// `pk.mode`.
    public var pkMode: PrimaryKeyMode
    /// `pk.fields`: the key columns; their meaning depends on `pk.mode`.
    public var pkFields: [String]
    /// `fields.whitelist`: value fields to write (all when empty). Key fields are always written.
    public var fieldsWhitelist: [String]
    /// `auto.create`: CREATE TABLE (with the primary key) when a table is missing.
    public var autoCreate: Bool
    /// `auto.evolve`: ALTER TABLE ADD COLUMN for new optional (or defaulted) fields.
    public var autoEvolve: Bool
    /// `batch.size`: records per poll, and so per transaction.
    public var batchSize: Int
    /// `delete.enabled`: tombstones delete the row with the record's key.
    public var deleteEnabled: Bool
    /// `truncate.enabled` (as Debezium's JDBC sink names it): a change event
    /// with op `t` deletes every row of its table; otherwise it is skipped with a warning.
    public var truncateEnabled = false
    /// `max.retries`: how often a failed batch is retried before the sink stops.
    public var maxRetries: Int
    /// `retry.backoff.ms`: the cap of the wait between retries, which starts
    /// at 100 ms and doubles.
    public var retryBackoff: Duration
    /// `errors.tolerance=all`: bad records go to the dead-letter topic (or are
    /// skipped with a warning when there is none) instead of stopping the sink.
    public var toleratesErrors: Bool
    /// `errors.deadletterqueue.topic.name`.
    public var deadLetterTopic: String?
    /// `key.converter`: StringConverter reads keys as plain strings.
    public var keyIsString: Bool
    /// `key.converter.schemas.enable` and `value.converter.schemas.enable`.
    public var keySchemasEnabled: Bool
    public var valueSchemasEnabled: Bool
    /// Set when `key.converter` / `value.converter` is Confluent's AvroConverter.
    public var keyRegistry: RegistryConverterSettings?
    public var valueRegistry: RegistryConverterSettings?
    /// The consumer group: Connect's `connect-<name>`.
    public var groupID: String
    /// librdkafka properties for the consumer (`consumer.override.*`) and
    /// the dead-letter producer (`producer.override.*`).
    public var consumerProperties: [String: String]
    /// See `consumerProperties`.
    public var producerProperties: [String: String]
    /// The table that holds consumed offsets, in the connection's database.
    public var offsetsTable: String
    /// Notices for Connect keys given but without effect (``ConnectorConfig/ignoredKeyNotices``);
    /// ``MySQLSink`` logs each once.
    public var ignoredKeyNotices: [String] = []
    /// `transforms=unwrap` with `io.debezium.transforms.ExtractNewRecordState`; nil: no transform
    /// (Debezium change events are still applied, see ``ChangeEventAction``).
    public var extractNewRecordState: ExtractNewRecordState?

    /// Settings with Kafka Connect's defaults for everything not given.
    public init(
        name: String, connection: MySQLConnectionOptions, topics: [String], topicsRegex: String? = nil,
        tableNameFormat: String = "${topic}", insertMode: InsertMode = .insert, pkMode: PrimaryKeyMode = .none,
        pkFields: [String] = [], fieldsWhitelist: [String] = [], autoCreate: Bool = false, autoEvolve: Bool = false,
        batchSize: Int = 3000, deleteEnabled: Bool = false, maxRetries: Int = 10, retryBackoff: Duration = .seconds(3),
        toleratesErrors: Bool = false, deadLetterTopic: String? = nil, reconnect: ReconnectPolicy = ReconnectPolicy(attempts: 3, maxBackoff: .seconds(10))
    ) {
        self.name = name
        self.connection = connection
        self.reconnect = reconnect
        self.topics = topics
        self.topicsRegex = topicsRegex
        self.tableNameFormat = tableNameFormat
        self.insertMode = insertMode
        self.pkMode = pkMode
        self.pkFields = pkFields
        self.fieldsWhitelist = fieldsWhitelist
        self.autoCreate = autoCreate
        self.autoEvolve = autoEvolve
        self.batchSize = batchSize
        self.deleteEnabled = deleteEnabled
        self.maxRetries = maxRetries
        self.retryBackoff = retryBackoff
        self.toleratesErrors = toleratesErrors
        self.deadLetterTopic = deadLetterTopic
        self.keyIsString = false
        self.keySchemasEnabled = true
        self.valueSchemasEnabled = true
        self.keyRegistry = nil
        self.valueRegistry = nil
        self.groupID = ConnectorSpec.sinkGroupID(connector: name)
        self.consumerProperties = [:]
        self.producerProperties = [:]
        self.offsetsTable = "__tributary_offsets"
    }

    /// Reads and validates Connect JDBC sink properties (a connector JSON's
    /// `config`), in the shape every stage's config takes
    /// (`PostgresSourceConfig`'s and `S3SinkConfig`'s `init(properties:environment:)`).
    public init(properties: [String: String], environment: [String: String] = ProcessEnvironment.current) throws(PipelineError) {
        try self.init(connector: ConnectorConfig(properties, definition: Self.definition, environment: environment))
    }

    /// Reads and validates Connect JDBC sink properties already checked
    /// against ``definition`` (as `S3SinkConfig(connector:)` does).
    public init(connector config: ConnectorConfig) throws(PipelineError) {
        let connection = try MySQLConnectionOptions(
            url: config.string("connection.url"), user: config.explicit("connection.user"),
            password: config.explicit("connection.password").map(Secret.init))
        let name = config.string("name")
        self.init(name: name.isEmpty ? "mysql-sink" : name, connection: connection, topics: config.list("topics"))
        topicsRegex = config.explicit("topics.regex")
        tableNameFormat = config.string("table.name.format")
        insertMode = InsertMode(rawValue: config.string("insert.mode").lowercased()) ?? .insert
        pkMode = PrimaryKeyMode(rawValue: config.string("pk.mode").lowercased()) ?? .none
        pkFields = config.list("pk.fields")
        fieldsWhitelist = config.list("fields.whitelist")
        autoCreate = config.bool("auto.create")
        autoEvolve = config.bool("auto.evolve")
        batchSize = config.int("batch.size")
        deleteEnabled = config.bool("delete.enabled")
        truncateEnabled = config.bool("truncate.enabled")
        maxRetries = config.int("max.retries")
        retryBackoff = .milliseconds(config.int64("retry.backoff.ms"))
        reconnect = ReconnectPolicy(attempts: config.int("connection.attempts"), maxBackoff: .milliseconds(config.int64("connection.backoff.ms")))
        toleratesErrors = config.string("errors.tolerance").lowercased() == "all"
        deadLetterTopic = config.explicit("errors.deadletterqueue.topic.name")
        keyIsString = config.string("key.converter").hasSuffix("StringConverter")
        keySchemasEnabled = config.bool("key.converter.schemas.enable")
        valueSchemasEnabled = config.bool("value.converter.schemas.enable")
        keyRegistry = try RegistryConverterSettings.from(config, isKey: true)
        valueRegistry = try RegistryConverterSettings.from(config, isKey: false)
        consumerProperties = config.withPrefix("consumer.override.")
        producerProperties = config.withPrefix("producer.override.")
        ignoredKeyNotices = config.ignoredKeyNotices
        extractNewRecordState = try Self.transform(config)
        let timezone = config.string("db.timezone")
        guard ["UTC", "Z", "GMT", "Etc/UTC", "+00:00"].contains(timezone) else {
            throw PipelineError.config(key: "db.timezone", reason: "only UTC is supported; timestamps are written as UTC DATETIME values")
        }
        try validate()
    }

    /// The one transform supported, Debezium's ExtractNewRecordState, under
    /// any alias (`transforms=unwrap`, `transforms.unwrap.type=…`); any other
    /// transform or transform key is an error naming it.
    static func transform(_ config: ConnectorConfig) throws(PipelineError) -> ExtractNewRecordState? {
        let aliases = config.list("transforms")
        let keys = config.withPrefix("transforms.")
        for key in keys.keys where !aliases.contains(where: { key.hasPrefix($0 + ".") }) {
            throw PipelineError.config(key: "transforms.\(key)", reason: "no transform of that alias is listed in 'transforms'")
        }
        guard let alias = aliases.first else { return nil }
        guard aliases.count == 1 else {
            throw PipelineError.config(key: "transforms", reason: "only one transform is supported (\(ExtractNewRecordState.className)); got \(aliases.joined(separator: ", "))")
        }
        let options = config.withPrefix("transforms.\(alias).")
        guard options["type"] == ExtractNewRecordState.className else {
            throw PipelineError.config(key: "transforms.\(alias).type", reason: "only \(ExtractNewRecordState.className) is supported; got '\(options["type"] ?? "")'")
        }
        var transform = ExtractNewRecordState()
        for (key, value) in options where key != "type" {
            switch key {
            case "drop.tombstones":
                guard let flag = Bool(value.lowercased()) else { throw PipelineError.config(key: "transforms.\(alias).\(key)", reason: "'\(value)' is not true or false") }
                transform.dropTombstones = flag
            case "delete.handling.mode":
                guard let mode = ExtractNewRecordState.DeleteHandling(rawValue: value.lowercased()) else {
                    throw PipelineError.config(key: "transforms.\(alias).\(key)", reason: "use one of: drop, none, rewrite")
                }
                transform.deleteHandling = mode
            default:
                throw PipelineError.config(key: "transforms.\(alias).\(key)", reason: "not supported (supported: type, drop.tombstones, delete.handling.mode)")
            }
        }
        return transform
    }

    /// Checks combinations Connect also rejects.
    public func validate() throws(PipelineError) {
        if topics.isEmpty == (topicsRegex == nil) {
            throw PipelineError.config(key: "topics", reason: "set exactly one of 'topics' and 'topics.regex'")
        }
        if deleteEnabled && pkMode != .recordKey {
            throw PipelineError.config(key: "delete.enabled", reason: "deletes require pk.mode=record_key (the key says which row to delete)")
        }
        if insertMode != .insert && pkMode == .none {
            throw PipelineError.config(key: "insert.mode", reason: "insert.mode=\(insertMode.rawValue) needs a primary key; set pk.mode")
        }
        if pkMode == .kafka && !pkFields.isEmpty && pkFields.count != 3 {
            throw PipelineError.config(key: "pk.fields", reason: "with pk.mode=kafka, pk.fields names exactly three columns (topic, partition, offset); got \(pkFields.count)")
        }
        if batchSize < 1 { throw PipelineError.config(key: "batch.size", reason: "must be at least 1") }
        if maxRetries < 0 { throw PipelineError.config(key: "max.retries", reason: "must not be negative") }
        if connection.database.isEmpty {
            throw PipelineError.config(key: "connection.url", reason: "the URL must name a database (jdbc:mysql://host:port/DATABASE); the offsets table lives there")
        }
        guard !tableNameFormat.isEmpty else {
            throw PipelineError.config(key: "table.name.format", reason: "must not be empty")
        }
    }

    /// The keys this sink accepts: Connect's JDBC sink keys it supports.
    /// Keys it does not support (e.g. `dialect.name` of another database) are
    /// rejected by ``ConnectorConfig`` rather than ignored.
    public static let definition = ConfigDefinition(keys: [
        ConfigKey("connection.url", .string, default: nil, doc: "jdbc:mysql://host:port/database?... or mysql://user:password@host:port/database."),
        ConfigKey("connection.user", .string, default: "", doc: "User name; wins over one in the URL."),
        ConfigKey("connection.password", .password, default: "", doc: "Password; wins over one in the URL."),
        ConfigKey("connection.attempts", .int, default: "3", doc: "Attempts to open the first connection; one lost later is retried until the server is back."),
        ConfigKey("connection.backoff.ms", .long, default: "10000", doc: "Cap of the wait between connection attempts (at most 2 s)."),
        ConfigKey("dialect.name", .string, default: "", doc: "Only MySQL.", validValues: ["MySqlDatabaseDialect"]),
        ConfigKey("topics", .list, default: "", doc: "Topics to consume."),
        ConfigKey("topics.regex", .string, default: "", doc: "Regex of topics to consume (instead of topics)."),
        ConfigKey("table.name.format", .string, default: "${topic}", doc: "Destination table; ${topic} is the record's topic; 'db.table' names another database."),
        ConfigKey("insert.mode", .string, default: "insert", doc: "insert, upsert or update.", validValues: InsertMode.allCases.map(\.rawValue)),
        ConfigKey("pk.mode", .string, default: "none", doc: "none, kafka, record_key or record_value.", validValues: PrimaryKeyMode.allCases.map(\.rawValue)),
        ConfigKey("pk.fields", .list, default: "", doc: "Primary key fields (meaning depends on pk.mode)."),
        ConfigKey("fields.whitelist", .list, default: "", doc: "Value fields to write; empty for all."),
        ConfigKey("auto.create", .boolean, default: "false", doc: "CREATE TABLE when missing."),
        ConfigKey("auto.evolve", .boolean, default: "false", doc: "ALTER TABLE ADD COLUMN for new optional fields."),
        ConfigKey("batch.size", .int, default: "3000", doc: "Records per transaction."),
        ConfigKey("delete.enabled", .boolean, default: "false", doc: "Tombstones delete rows (pk.mode=record_key)."),
        ConfigKey("truncate.enabled", .boolean, default: "false", doc: "Debezium truncate events (op t) empty their table, in the batch's transaction; otherwise they are skipped with a warning."),
        ConfigKey("max.retries", .int, default: "10", doc: "Retries of a batch the database refuses (deadlock, missing table); outages (connection lost, broker down) are waited out without counting."),
        ConfigKey("retry.backoff.ms", .int, default: "3000", doc: "Cap of the wait between retries (at most 2 s)."),
        ConfigKey("db.timezone", .string, default: "UTC", doc: "Only UTC."),
        ConfigKey("quote.sql.identifiers", .string, default: "always", doc: "Identifiers are always quoted.", validValues: ["always"]),
        ConfigKey("table.types", .list, default: "TABLE", doc: "Only TABLE.", validValues: ["TABLE"]),
        ConfigKey("trim.sensitive.log", .boolean, default: "false", doc: "Accepted; values are never logged."),
        ConfigKey("transforms", .list, default: "",
                  doc: "One alias of io.debezium.transforms.ExtractNewRecordState (transforms.<alias>.type, .drop.tombstones, .delete.handling.mode drop|none|rewrite). Debezium change events are applied without it too: c, r, u written from 'after', d deleted with delete.enabled, t skipped."),
    ] + RegistryConverterSettings.converterKeys, passthroughPrefixes: ["transforms."])
}
