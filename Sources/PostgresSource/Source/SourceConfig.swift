import PipelineCore

/// Typed configuration of ``PostgresSource``, readable from the Kafka Connect
/// JDBC source connector's properties (``init(properties:environment:)``).
public struct PostgresSourceConfig: Sendable {
    /// Connector name; it prefixes offset keys.
    public var name: String
    public var connection: ConnectionSettings
    /// Connect attempts at startup, and the cap of the delay between them.
    public var connectionAttempts: Int = 3
    public var connectionBackoffMilliseconds: Int = 10_000
    public var mode: PollingMode
    /// The strictly increasing integer column; nil picks the table's serial/identity column.
    public var incrementingColumn: String?
    /// Timestamp columns; the first non-null one (COALESCE) is a row's timestamp.
    public var timestampColumns: [String] = []
    /// Tables to copy (`table` or `schema.table`); empty means every table not blacklisted.
    public var whitelist: [String] = []
    public var blacklist: [String] = []
    /// SQL LIKE pattern on schema names; nil means every non-system schema.
    public var schemaPattern: String?
    /// `TABLE`, `VIEW`, `PARTITIONED TABLE`.
    public var tableTypes: [String] = ["TABLE"]
    /// A custom query instead of tables; its rows go to `topicPrefix` itself.
    public var query: String?
    /// Appended to every generated query (e.g. a locking clause).
    public var querySuffix: String?
    public var topicPrefix: String
    public var pollIntervalMilliseconds: Int = 5_000
    public var batchMaxRows: Int = 100
    /// Rows are only read once their timestamp is this far in the past.
    public var timestampDelayMilliseconds: Int64 = 0
    /// Where timestamp modes start without a stored offset: ms since the epoch,
    /// -1 for "now", nil for the beginning of time.
    public var timestampInitialMilliseconds: Int64?
    public var validateNonNull: Bool = true
    public var tablePollIntervalMilliseconds: Int = 60_000
    public var numericMapping: NumericMapping = .none
    /// Write keys and values as schema+payload envelopes.
    public var keySchemasEnabled: Bool = true
    public var valueSchemasEnabled: Bool = true
    /// Set when `key.converter` / `value.converter` is Confluent's AvroConverter.
    public var keyRegistry: RegistryConverterSettings?
    public var valueRegistry: RegistryConverterSettings?
    /// The offset file (`offset.storage.file.filename`), when the caller uses one from config.
    public var offsetFile: String?
    /// Rows read per fenced cycle before the source looks for newer rows again.
    /// Each cycle ends with a wait for every page in flight (its offset is
    /// stored before the next probe): about 50 ms with the producer's queue
    /// full, so a backlog is read in big cycles. The probe walks the next
    /// cycle's keys (about 4 ms per 100,000 rows on an index); one cycle
    /// is about 4 s of reading.
    public var maxRowsPerCycle: Int = 1_000_000
    /// Notices for Connect keys given but without effect (``ConnectorConfig/ignoredKeyNotices``);
    /// ``PostgresSource`` logs each once.
    public var ignoredKeyNotices: [String] = []
    /// `topic.creation.default.partitions` (KIP-158): topics that do not exist
    /// yet are created with this many partitions; nil (or -1 in the config)
    /// leaves the count to the broker, except on the embedded broker, where
    /// the source picks one from the table's size.
    public var topicCreationPartitions: Int?
    /// `topic.creation.default.replication.factor` (KIP-158); nil: the broker's default.
    public var topicCreationReplicationFactor: Int?
    /// `topic.creation.groups`: accepted, and ignored with a notice.
    public var topicCreationGroups: [String] = []

    public init(name: String, connection: ConnectionSettings, mode: PollingMode, topicPrefix: String) {
        self.name = name
        self.connection = connection
        self.mode = mode
        self.topicPrefix = topicPrefix
    }

    /// The connector class names this source answers to.
    public static let connectorClasses = [
        "io.confluent.connect.jdbc.JdbcSourceConnector", "JdbcSourceConnector", "PostgresSource", "tributary.PostgresSource",
    ]

    /// Reads Connect JDBC source properties. Unknown keys, keys this source does
    /// not support, and contradictions (query together with a whitelist, a
    /// timestamp mode without a timestamp column...) are errors naming the key.
    public init(properties: [String: String], environment: [String: String] = ProcessEnvironment.current) throws(PipelineError) {
        let config = try ConnectorConfig(properties, definition: PostgresSourceConfig.definition, environment: environment)
        if let cls = config.explicit("connector.class"), !PostgresSourceConfig.connectorClasses.contains(cls) {
            throw PipelineError.config(key: "connector.class", reason: "'\(cls)' is not the JDBC source; use \(PostgresSourceConfig.connectorClasses[0])")
        }
        let password = config.explicit("connection.password").map(Secret.init)
        let connection = try ConnectionSettings(url: config.string("connection.url"), user: config.explicit("connection.user"), password: password)
        guard let mode = PollingMode(rawValue: config.string("mode").lowercased()) else {
            throw PipelineError.config(key: "mode", reason: "use one of: bulk, incrementing, timestamp, timestamp+incrementing")
        }
        self.init(name: config.explicit("name") ?? "postgres-source", connection: connection, mode: mode, topicPrefix: config.string("topic.prefix"))
        connectionAttempts = max(1, config.int("connection.attempts"))
        connectionBackoffMilliseconds = max(0, config.int("connection.backoff.ms"))
        incrementingColumn = config.explicit("incrementing.column.name")
        timestampColumns = config.list("timestamp.column.name")
        whitelist = config.list("table.whitelist") + config.list("table.include.list")
        blacklist = config.list("table.blacklist") + config.list("table.exclude.list")
        schemaPattern = config.explicit("schema.pattern")
        tableTypes = config.list("table.types").map { $0.uppercased() }
        query = config.explicit("query")
        querySuffix = config.explicit("query.suffix")
        pollIntervalMilliseconds = config.int("poll.interval.ms")
        batchMaxRows = config.int("batch.max.rows")
        timestampDelayMilliseconds = config.int64("timestamp.delay.interval.ms")
        timestampInitialMilliseconds = config.explicit("timestamp.initial").flatMap { Int64($0) }
        validateNonNull = config.bool("validate.non.null")
        tablePollIntervalMilliseconds = config.int("table.poll.interval.ms")
        numericMapping = NumericMapping(rawValue: config.string("numeric.mapping").lowercased()) ?? .none
        if config.explicit("numeric.mapping") == nil && config.bool("numeric.precision.mapping") { numericMapping = .precisionOnly }
        keySchemasEnabled = config.bool("key.converter.schemas.enable")
        valueSchemasEnabled = config.bool("value.converter.schemas.enable")
        keyRegistry = try RegistryConverterSettings.from(config, isKey: true)
        valueRegistry = try RegistryConverterSettings.from(config, isKey: false)
        offsetFile = config.explicit("offset.storage.file.filename")
        ignoredKeyNotices = config.ignoredKeyNotices
        topicCreationPartitions = config.explicit("topic.creation.default.partitions").map { _ in config.int("topic.creation.default.partitions") }.flatMap { $0 == -1 ? nil : $0 }
        topicCreationReplicationFactor = config.explicit("topic.creation.default.replication.factor").map { _ in config.int("topic.creation.default.replication.factor") }.flatMap { $0 == -1 ? nil : $0 }
        topicCreationGroups = config.list("topic.creation.groups")
        try check(config)
    }

    /// Cross-key rules, as Connect's JdbcSourceConnectorConfig checks them.
    func check(_ config: ConnectorConfig) throws(PipelineError) {
        if query != nil && !(whitelist.isEmpty && blacklist.isEmpty) {
            throw PipelineError.config(key: "query", reason: "cannot be combined with table.whitelist or table.blacklist")
        }
        if !whitelist.isEmpty && !blacklist.isEmpty {
            throw PipelineError.config(key: "table.blacklist", reason: "cannot be combined with table.whitelist")
        }
        if mode.usesTimestamp && timestampColumns.isEmpty {
            throw PipelineError.config(key: "timestamp.column.name", reason: "mode \(mode.rawValue) needs at least one timestamp column")
        }
        if query != nil && mode.usesIncrementing && incrementingColumn == nil {
            throw PipelineError.config(key: "incrementing.column.name", reason: "a query in mode \(mode.rawValue) needs the incrementing column named")
        }
        for (key, value) in [("poll.interval.ms", pollIntervalMilliseconds), ("batch.max.rows", batchMaxRows), ("table.poll.interval.ms", tablePollIntervalMilliseconds)] where value < 1 {
            throw PipelineError.config(key: key, reason: "must be at least 1, got \(value)")
        }
        if timestampDelayMilliseconds < 0 {
            throw PipelineError.config(key: "timestamp.delay.interval.ms", reason: "must not be negative")
        }
        if let dialect = config.explicit("dialect.name"), dialect != "PostgreSqlDatabaseDialect" {
            throw PipelineError.config(key: "dialect.name", reason: "only PostgreSqlDatabaseDialect is supported, got '\(dialect)'")
        }
        if config.string("db.timezone") != "UTC" {
            throw PipelineError.config(key: "db.timezone", reason: "only UTC is supported: timestamp columns without a time zone are read as UTC")
        }
        if !["ALWAYS"].contains(config.string("quote.sql.identifiers").uppercased()) {
            throw PipelineError.config(key: "quote.sql.identifiers", reason: "identifiers are always quoted; only ALWAYS is supported")
        }
        for (key, value) in [("topic.creation.default.partitions", topicCreationPartitions), ("topic.creation.default.replication.factor", topicCreationReplicationFactor)] {
            if let value, value < 1 { throw PipelineError.config(key: key, reason: "must be at least 1, or -1 for the broker's default; got \(value)") }
        }
        for type in tableTypes where !["TABLE", "VIEW", "PARTITIONED TABLE"].contains(type) {
            throw PipelineError.config(key: "table.types", reason: "unsupported table type '\(type)'; use TABLE, VIEW or PARTITIONED TABLE")
        }
    }

    /// The keys this source accepts, with Connect's defaults.
    public static let definition = ConfigDefinition(keys: [
        ConfigKey("connection.url", .string, default: nil, doc: "jdbc:postgresql://host:port/db?... or postgresql://user@host:port/db?..."),
        ConfigKey("connection.user", .string, default: "", doc: "User; wins over the URL's."),
        ConfigKey("connection.password", .password, default: "", doc: "Password; wins over the URL's. Never logged."),
        ConfigKey("connection.attempts", .int, default: "3", doc: "Connection attempts at startup; a connection lost later is retried until the server is back."),
        ConfigKey("connection.backoff.ms", .long, default: "10000", doc: "Maximum delay between connection attempts (at most 2 s while running)."),
        ConfigKey("mode", .string, default: nil, doc: "bulk, incrementing, timestamp or timestamp+incrementing.",
                  validValues: PollingMode.allCases.map(\.rawValue)),
        ConfigKey("incrementing.column.name", .string, default: "", doc: "Strictly increasing integer column; empty picks the serial/identity column."),
        ConfigKey("timestamp.column.name", .list, default: "", doc: "Timestamp columns, COALESCEd in order."),
        ConfigKey("timestamp.initial", .long, default: "", doc: "Start of timestamp modes without an offset: ms since the epoch, -1 for now."),
        ConfigKey("timestamp.delay.interval.ms", .long, default: "0", doc: "Read rows only once their timestamp is this old."),
        ConfigKey("validate.non.null", .boolean, default: "true", doc: "Fail when the incrementing or timestamp columns are nullable."),
        ConfigKey("table.whitelist", .list, default: "", doc: "Tables to copy (table or schema.table)."),
        ConfigKey("table.include.list", .list, default: "", doc: "Same as table.whitelist."),
        ConfigKey("table.blacklist", .list, default: "", doc: "Tables never to copy."),
        ConfigKey("table.exclude.list", .list, default: "", doc: "Same as table.blacklist."),
        ConfigKey("schema.pattern", .string, default: "", doc: "SQL LIKE pattern of schemas to look in; empty is every non-system schema."),
        ConfigKey("catalog.pattern", .string, default: "", doc: "Accepted for compatibility; the connection's database is used."),
        ConfigKey("table.types", .list, default: "TABLE", doc: "TABLE, VIEW, PARTITIONED TABLE."),
        ConfigKey("table.poll.interval.ms", .long, default: "60000", doc: "How often to look for new or dropped tables."),
        ConfigKey("query", .string, default: "", doc: "A custom query instead of tables; topic is topic.prefix."),
        ConfigKey("query.suffix", .string, default: "", doc: "Appended to every query."),
        ConfigKey("topic.prefix", .string, default: nil, doc: "Topic = prefix + table name."),
        ConfigKey("poll.interval.ms", .int, default: "5000", doc: "Pause between polls of a table that had no more rows."),
        ConfigKey("batch.max.rows", .int, default: "100", doc: "Rows per batch sent to Kafka (Postgres is read about 1,000 rows, in whole batches, per FETCH)."),
        ConfigKey("numeric.mapping", .string, default: "none", doc: "none, precision_only, best_fit, best_fit_eager_double.",
                  validValues: NumericMapping.allCases.map(\.rawValue)),
        ConfigKey("numeric.precision.mapping", .boolean, default: "false", doc: "Deprecated: true means numeric.mapping=precision_only."),
        ConfigKey("dialect.name", .string, default: "", doc: "Only PostgreSqlDatabaseDialect."),
        ConfigKey("db.timezone", .string, default: "UTC", doc: "Time zone of timestamp columns without one; only UTC."),
        ConfigKey("quote.sql.identifiers", .string, default: "ALWAYS", doc: "Identifiers are always quoted."),
        ConfigKey("offset.storage.file.filename", .string, default: "", doc: "Offset file (Connect standalone's worker key)."),
        ConfigKey("topic.creation.default.partitions", .int, default: "-1",
                  doc: "Partitions of topics the source creates (KIP-158); -1: the broker's default, or on the embedded broker a count picked from the table's size."),
        ConfigKey("topic.creation.default.replication.factor", .int, default: "-1",
                  doc: "Replication factor of topics the source creates (KIP-158); -1: the broker's default."),
        ConfigKey("topic.creation.groups", .list, default: "",
                  doc: "Accepted and ignored: every topic is created with the topic.creation.default.* settings."),
    ] + RegistryConverterSettings.converterKeys)
}
