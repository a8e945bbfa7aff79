import PipelineCore

/// What ``PostgresCDCSource`` reads from, and sets up in, the catalogs over
/// an ordinary connection: the slot's state, the publication, the tables'
/// columns, keys and replica identities.
struct CDCCatalog: Sendable {
    let client: PostgresClient

    struct SlotState: Sendable {
        var plugin: String
        var database: String
        var confirmedFlush: LSN?
        /// `reserved`, `extended`, `unreserved` or `lost`.
        var walStatus: String?
    }

    /// The slot's row of `pg_replication_slots`, or nil when it does not exist.
    func slot(_ name: String) async throws -> SlotState? {
        let rows = try await client.query(
            "SELECT plugin, database, confirmed_flush_lsn::text, wal_status FROM pg_replication_slots WHERE slot_name = $1",
            [name], operation: "look up replication slot \(name)")
        guard let row = rows.first else { return nil }
        return SlotState(plugin: row[0] ?? "", database: row[1] ?? "", confirmedFlush: row[2].flatMap(LSN.init), walStatus: row[3])
    }

    /// Bytes of WAL the slot holds back: the server's current position minus the slot's confirmed one.
    func slotLag(_ name: String) async throws -> Int64? {
        let rows = try await client.query(
            "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1",
            [name], operation: "slot lag")
        return rows.first?[0].flatMap { Int64($0) }
    }

    func dropSlot(_ name: String) async throws {
        try await client.query("SELECT pg_drop_replication_slot($1)", [name], operation: "drop replication slot \(name)")
    }

    /// Makes sure the publication exists as `publication.autocreate.mode` asks.
    func ensurePublication(_ name: String, mode: PostgresCDCConfig.PublicationMode, tables: [String]) async throws {
        let exists = try await !client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name], operation: "look up publication \(name)").isEmpty
        let list = tables.map { table -> String in
            let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
            return SQL.quote(schema: parts[0], table: parts[1])
        }.joined(separator: ", ")
        switch mode {
        case .disabled:
            guard exists else { throw PipelineError.config(key: "publication.name", reason: "publication '\(name)' does not exist and publication.autocreate.mode is disabled") }
        case .allTables:
            if !exists { try await client.query("CREATE PUBLICATION \(SQL.quote(name)) FOR ALL TABLES", operation: "create publication \(name)") }
        case .filtered:
            let sql = exists ? "ALTER PUBLICATION \(SQL.quote(name)) SET TABLE \(list)" : "CREATE PUBLICATION \(SQL.quote(name)) FOR TABLE \(list)"
            try await client.query(sql, operation: "\(exists ? "alter" : "create") publication \(name)")
        }
    }

    /// Every table (`schema.table`, partitioned ones by their parent) outside the system schemas.
    func allTables() async throws -> [String] {
        try await client.query(
            """
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1, 2
            """, operation: "list tables").map { "\($0[0]!).\($0[1]!)" }
    }

    /// The tables captured: those `filter` names, else every table of the publication.
    func captured(_ filter: TableFilter?, publication: String) async throws -> [String] {
        guard let filter else { return try await publishedTables(publication) }
        return try filter.resolve(among: try await allTables())
    }

    /// The `schema.table` names the publication covers.
    func publishedTables(_ publication: String) async throws -> [String] {
        try await client.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
            [publication], operation: "list tables of publication \(publication)").map { "\($0[0]!).\($0[1]!)" }
    }

    /// The table as pgoutput's Relation message would describe it (columns in
    /// attribute order, without dropped and generated ones), for the snapshot.
    func relation(_ table: String) async throws -> Relation {
        let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
        let head = try await client.query(
            "SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            parts, operation: "describe \(table)")
        guard let row = head.first, let oid = UInt32(row[0] ?? "") else {
            throw PipelineError.config(key: "table.include.list", reason: "table \(table) does not exist")
        }
        let columns = try await client.query(
            """
            SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum
            """, [String(oid)], operation: "describe columns of \(table)")
        return Relation(
            id: oid, namespace: parts[0], name: parts[1], replicaIdentity: row[1]?.utf8.first ?? UInt8(ascii: "d"),
            columns: columns.map { RelationColumn(isKey: false, name: $0[0]!, typeOID: UInt32($0[1]!) ?? 0, typeModifier: Int32($0[2]!) ?? -1) })
    }

    /// The primary key's columns, in key order (empty without one).
    func primaryKey(_ relationID: UInt32) async throws -> [String] {
        try await client.query(
            """
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, [String(relationID)], operation: "primary key of relation \(relationID)").map { $0[0]! }
    }
}
