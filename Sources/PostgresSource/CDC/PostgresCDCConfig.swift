import PipelineCore

/// Typed configuration of ``PostgresCDCSource``, read from Debezium's
/// PostgreSQL connector properties (``init(properties:environment:)``).
public struct PostgresCDCConfig: Sendable {
    /// Debezium's `publication.autocreate.mode`.
    public enum PublicationMode: String, Sendable, CaseIterable {
        /// `CREATE PUBLICATION … FOR ALL TABLES` when it does not exist.
        case allTables = "all_tables"
        /// The publication must exist.
        case disabled
        /// A publication for `table.include.list`, kept in step with it.
        case filtered
    }

    /// Debezium's `snapshot.mode`.
    public enum SnapshotMode: String, Sendable, CaseIterable {
        /// Snapshot when no offset is stored, then stream.
        case initial
        /// Never snapshot: stream from the slot.
        case never
        /// Snapshot, then stop (no streaming).
        case initialOnly = "initial_only"
        /// Stream only, from a slot created now (Debezium's newer name for `never`).
        case noData = "no_data"
        /// Snapshot when there is no offset, or when the stored position cannot be resumed (the slot is gone).
        case whenNeeded = "when_needed"
    }

    /// Debezium's `decimal.handling.mode`.
    public enum DecimalMode: String, Sendable, CaseIterable {
        /// Connect's Decimal (exact; unconstrained `numeric` is a string, having no fixed scale).
        case precise
        case double
        case string
    }

    public var name: String
    public var connection: ConnectionSettings
    /// Topics are `<topicPrefix>.<schema>.<table>`; also `source.name`.
    public var topicPrefix: String
    /// `schema.table` names or regular expressions (see ``TableFilter``).
    public var tables: [String]
    /// `table.exclude.list`, `schema.include.list`, `schema.exclude.list` (see ``TableFilter``).
    public var excludedTables: [String] = []
    public var schemas: [String] = []
    public var excludedSchemas: [String] = []
    public var slot: String
    public var publication: String
    public var publicationMode: PublicationMode = .allTables
    public var snapshotMode: SnapshotMode = .initial
    /// 0: no heartbeats.
    public var heartbeatIntervalMilliseconds: Int = 0
    /// Heartbeats go to `<heartbeatTopicsPrefix>.<topicPrefix>`.
    public var heartbeatTopicsPrefix: String = "__debezium-heartbeat"
    public var tombstonesOnDelete: Bool = true
    /// Operations not written while streaming (`skipped.operations`: `c`, `u`,
    /// `d`, `t`); Debezium 2 skips truncates (`t`) unless told otherwise.
    public var skippedOperations: Set<String> = ["t"]
    public var decimalMode: DecimalMode = .precise
    /// At most this many changes per batch handed to the producer (`max.batch.size`).
    public var maxBatchSize: Int = 2048
    /// How often a standby status update is sent while nothing is confirmed (`status.update.interval.ms`).
    public var statusUpdateIntervalMilliseconds: Int = 10_000
    public var offsetFile: String?
    public var keySchemasEnabled = true
    public var valueSchemasEnabled = true
    /// Notices for keys accepted without effect; the source logs each once.
    public var ignoredKeyNotices: [String] = []

    public init(name: String, connection: ConnectionSettings, topicPrefix: String, tables: [String], slot: String = "debezium", publication: String = "dbz_publication") {
        self.name = name
        self.connection = connection
        self.topicPrefix = topicPrefix
        self.tables = tables
        self.slot = slot
        self.publication = publication
    }

    /// The connector class names this source answers to.
    public static let connectorClasses = ["io.debezium.connector.postgresql.PostgresConnector", "PostgresConnector", "PostgresCDCSource"]

    /// Reads Debezium PostgreSQL connector properties. Unknown keys are errors
    /// naming the key; keys accepted without effect are listed in ``ignoredKeyNotices``.
    public init(properties: [String: String], environment: [String: String] = ProcessEnvironment.current) throws(PipelineError) {
        let config = try ConnectorConfig(properties, definition: PostgresCDCConfig.definition, environment: environment)
        if let cls = config.explicit("connector.class"), !PostgresCDCConfig.connectorClasses.contains(cls) {
            throw PipelineError.config(key: "connector.class", reason: "'\(cls)' is not the PostgreSQL CDC source; use \(PostgresCDCConfig.connectorClasses[0])")
        }
        guard config.string("plugin.name").lowercased() == "pgoutput" else {
            throw PipelineError.config(key: "plugin.name", reason: "only pgoutput is supported")
        }
        var connection = try ConnectionSettings(
            url: "postgresql://localhost/postgres", user: config.explicit("database.user"), password: config.explicit("database.password").map(Secret.init))
        // Set as libpq keywords, not spliced into a URL: any host (IPv6 too) or database name works as given.
        connection.parameters["host"] = config.string("database.hostname")
        connection.parameters["port"] = config.string("database.port")
        connection.parameters["dbname"] = config.string("database.dbname")
        if let mode = config.explicit("database.sslmode") { connection.parameters["sslmode"] = mode }
        self.init(
            name: config.explicit("name") ?? "postgres-cdc", connection: connection, topicPrefix: config.string("topic.prefix"),
            tables: config.list("table.include.list"), slot: config.string("slot.name"), publication: config.string("publication.name"))
        for table in tables where !TableFilter.isPattern(table) && table.split(separator: ".").count != 2 {
            throw PipelineError.config(key: "table.include.list", reason: "'\(table)' is not schema.table (nor a regular expression)")
        }
        excludedTables = config.list("table.exclude.list")
        schemas = config.list("schema.include.list")
        excludedSchemas = config.list("schema.exclude.list")
        if !tables.isEmpty && !excludedTables.isEmpty {
            throw PipelineError.config(key: "table.exclude.list", reason: "cannot be combined with table.include.list")
        }
        if !schemas.isEmpty && !excludedSchemas.isEmpty {
            throw PipelineError.config(key: "schema.exclude.list", reason: "cannot be combined with schema.include.list")
        }
        publicationMode = PublicationMode(rawValue: config.string("publication.autocreate.mode").lowercased())!
        snapshotMode = SnapshotMode(rawValue: config.string("snapshot.mode").lowercased())!
        heartbeatIntervalMilliseconds = max(0, config.int("heartbeat.interval.ms"))
        heartbeatTopicsPrefix = config.string("heartbeat.topics.prefix")
        tombstonesOnDelete = config.bool("tombstones.on.delete")
        skippedOperations = try Self.skippedOperations(config)
        decimalMode = DecimalMode(rawValue: config.string("decimal.handling.mode").lowercased())!
        maxBatchSize = max(1, config.int("max.batch.size"))
        statusUpdateIntervalMilliseconds = max(100, config.int("status.update.interval.ms"))
        offsetFile = config.explicit("offset.storage.file.filename")
        keySchemasEnabled = config.bool("key.converter.schemas.enable")
        valueSchemasEnabled = config.bool("value.converter.schemas.enable")
        ignoredKeyNotices = config.ignoredKeyNotices
        if publicationMode == .filtered && tables.isEmpty && excludedTables.isEmpty && schemas.isEmpty && excludedSchemas.isEmpty {
            throw PipelineError.config(key: "publication.autocreate.mode", reason: "filtered needs table.include.list (or another table or schema list)")
        }
        guard slot.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }), !slot.isEmpty else {
            throw PipelineError.config(key: "slot.name", reason: "'\(slot)': replication slot names use lower-case letters, digits and underscores")
        }
    }

    /// `skipped.operations`, or Debezium 1's `truncate.handling.mode=include`
    /// (which writes truncates) when that is not given.
    static func skippedOperations(_ config: ConnectorConfig) throws(PipelineError) -> Set<String> {
        if config.explicit("skipped.operations") == nil, let mode = config.explicit("truncate.handling.mode") {
            switch mode.lowercased() {
            case "include": return []
            case "skip": return ["t"]
            default: throw PipelineError.config(key: "truncate.handling.mode", reason: "'\(mode)' is neither skip nor include")
            }
        }
        let listed = Set(config.list("skipped.operations").map { $0.lowercased() })
        if listed == ["none"] || listed.isEmpty { return [] }
        for op in listed where !["c", "u", "d", "t"].contains(op) {
            throw PipelineError.config(key: "skipped.operations", reason: "'\(op)' is not an operation: use c, u, d, t, or none")
        }
        return listed
    }

    /// Every key, as Debezium's PostgreSQL connector names it.
    public static let definition = ConfigDefinition(keys: [
        ConfigKey("database.hostname", .string, default: nil, doc: "PostgreSQL host."),
        ConfigKey("database.port", .int, default: "5432", doc: "PostgreSQL port."),
        ConfigKey("database.user", .string, default: nil, doc: "A user with the REPLICATION attribute (and SELECT on the tables)."),
        ConfigKey("database.password", .password, default: "", doc: "Its password."),
        ConfigKey("database.dbname", .string, default: nil, doc: "The database to capture."),
        ConfigKey("database.sslmode", .string, default: "", doc: "libpq sslmode (disable, require, verify-ca, verify-full)."),
        ConfigKey("topic.prefix", .string, default: nil, doc: "Topics are <topic.prefix>.<schema>.<table>; also source.name in every event."),
        ConfigKey("table.include.list", .list, default: "", doc: "Tables to capture: regular expressions matched against the whole schema.table name, case-insensitively (an entry without regular-expression characters is an exact name, which must exist); empty: every table in the publication."),
        ConfigKey("table.exclude.list", .list, default: "", doc: "Tables not to capture (regular expressions, as table.include.list); not with table.include.list."),
        ConfigKey("schema.include.list", .list, default: "", doc: "Schemas to capture (regular expressions matched against the whole schema name)."),
        ConfigKey("schema.exclude.list", .list, default: "", doc: "Schemas not to capture; not with schema.include.list."),
        ConfigKey("plugin.name", .string, default: "pgoutput", doc: "Only pgoutput.", validValues: ["pgoutput"]),
        ConfigKey("slot.name", .string, default: "debezium", doc: "The logical replication slot; created when missing."),
        ConfigKey("publication.name", .string, default: "dbz_publication", doc: "The publication the slot streams."),
        ConfigKey("publication.autocreate.mode", .string, default: "all_tables", doc: "all_tables, disabled, filtered.",
                  validValues: PublicationMode.allCases.map(\.rawValue)),
        ConfigKey("snapshot.mode", .string, default: "initial", doc: "initial, never, initial_only, no_data, when_needed.",
                  validValues: SnapshotMode.allCases.map(\.rawValue)),
        ConfigKey("heartbeat.interval.ms", .int, default: "0", doc: "Heartbeat records this often, so an idle slot's confirmed_flush_lsn advances; 0: none."),
        ConfigKey("heartbeat.topics.prefix", .string, default: "__debezium-heartbeat", doc: "Heartbeats go to <prefix>.<topic.prefix>."),
        ConfigKey("tombstones.on.delete", .boolean, default: "true", doc: "A null-valued record after each delete, for log compaction."),
        ConfigKey("skipped.operations", .list, default: "t",
                  doc: "Operations not written while streaming: c (inserts), u (updates), d (deletes), t (truncates), or none. As in Debezium 2, truncates are skipped by default; none writes a 't' event per truncated table."),
        ConfigKey("truncate.handling.mode", .string, default: "skip",
                  doc: "Debezium 1's switch for truncate events (skip, include); used only when skipped.operations is not given.", validValues: ["skip", "include"]),
        ConfigKey("decimal.handling.mode", .string, default: "precise", doc: "precise (Connect Decimal), double, string.",
                  validValues: DecimalMode.allCases.map(\.rawValue)),
        ConfigKey("time.precision.mode", .string, default: "connect",
                  doc: "Only connect: Connect's Date, Time and Timestamp (milliseconds; timestamptz in UTC). Debezium's adaptive types are not supported.",
                  validValues: ["connect"]),
        ConfigKey("max.batch.size", .int, default: "2048", doc: "At most this many changes per batch handed to the producer; snapshot pages also keep to about 1 MiB of events per table read at once."),
        ConfigKey("status.update.interval.ms", .int, default: "10000", doc: "Standby status updates at least this often."),
        ConfigKey("offset.storage.file.filename", .string, default: "", doc: "Offset file (Connect standalone's worker key)."),
    ], ignoredKeys: [
        IgnoredKey("database.server.name", reason: "replaced by topic.prefix in Debezium 2"),
        IgnoredKey("slot.drop.on.stop", reason: "the slot is always kept, so a restart resumes"),
        IgnoredKey("include.schema.changes", reason: "PostgreSQL has no schema change topic; a Relation message gives the next events a new schema"),
        IgnoredKey("provide.transaction.metadata", reason: "transaction boundary topics are not written"),
        IgnoredKey("max.queue.size", reason: "batches are bounded by max.batch.size and the producer's window"),
        IgnoredKey("poll.interval.ms", reason: "the replication stream is read as it arrives"),
        IgnoredKey("snapshot.locking.mode", reason: "the snapshot reads the slot's exported snapshot and takes no locks"),
        IgnoredKey("snapshot.isolation.mode", reason: "the snapshot is always REPEATABLE READ on the slot's exported snapshot"),
        IgnoredKey("schema.history.internal.*", reason: "PostgreSQL needs no schema history"),
        IgnoredKey("database.history.*", reason: "PostgreSQL needs no schema history"),
    ])
}
