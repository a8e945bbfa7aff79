import PipelineCore

/// A column as the source reads it: name, type as the server reports it in
/// results (domains already resolved to their base types), and catalog facts.
struct ColumnInfo: Sendable, Hashable {
    var name: String
    var typeOID: UInt32
    var typeModifier: Int32
    /// `pg_type.typname` and `typtype`, for messages and for types without a fixed OID (enums, citext).
    var typeName: String
    var typeType: String
    /// Nil when unknown (query mode): treated as nullable.
    var notNull: Bool?
    /// Filled by a sequence (serial) or an identity.
    var isSerial: Bool
}

/// A table (or the custom query) the source polls.
struct TableInfo: Sendable {
    /// Nil for the custom query.
    var name: TableName?
    /// `pg_class.oid`; nil for the query.
    var oid: UInt32?
    /// `pg_class.relkind`: r, p, v, m.
    var kind: String
    var columns: [ColumnInfo]
    var primaryKey: [String]
    /// Digest of the columns (names, types, nullability) when described; nil for the query.
    var fingerprint: String?

    func column(_ name: String) -> ColumnInfo? { columns.first { $0.name == name } }

    /// For messages: `schema.table` or `query`.
    var label: String { name?.description ?? "query" }
}

/// Reads table lists and descriptions from the system catalogs.
struct Catalog: Sendable {
    let client: PostgresClient

    /// relkinds for Connect's `table.types`.
    static func relkinds(_ types: [String]) -> [String] {
        var kinds: [String] = []
        for type in types {
            switch type {
            case "TABLE": kinds += ["r", "p"]
            case "PARTITIONED TABLE": kinds.append("p")
            case "VIEW": kinds += ["v", "m"]
            default: break
            }
        }
        return kinds
    }

    /// Tables in the database of the given kinds, in schemas matching `schemaPattern`
    /// (SQL LIKE; nil = every non-system schema). Partitions are reached through their parent.
    func listTables(types: [String], schemaPattern: String?) async throws -> [TableName] {
        let rows = try await client.query(
            """
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = ANY($1::"char"[]) AND NOT c.relispartition
              AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
              AND ($2::text IS NULL OR n.nspname LIKE $2::text)
            ORDER BY 1, 2
            """, [ArrayLiteral.encode(Catalog.relkinds(types)), schemaPattern], operation: "list tables")
        return rows.map { TableName(schema: $0[0]!, $0[1]!) }
    }

    /// Describes `table` (schema-qualified), or nil when it does not exist.
    func describe(_ table: TableName) async throws -> TableInfo? {
        let found = try await client.query(
            """
            SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """, [table.schema ?? "public", table.table], operation: "describe \(table)")
        guard let row = found.first, let oid = UInt32(row[0]!) else { return nil }
        let attributes = try await client.query(
            """
            SELECT a.attname, a.attnotnull,
                   a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)
            FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, [String(oid)], operation: "describe columns of \(table)")
        let primaryKey = try await client.query(
            """
            SELECT a.attname FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.position
            """, [String(oid)], operation: "primary key of \(table)")
        let names = attributes.map { $0[0]! }
        var columns = try await resultColumns("SELECT \(names.map(SQL.quote).joined(separator: ", ")) FROM \(table.quoted)", label: table.description)
        for (i, attribute) in attributes.enumerated() where i < columns.count {
            columns[i].notNull = attribute[1] == "t"
            columns[i].isSerial = attribute[2] == "t"
        }
        let fingerprint = try await client.query("SELECT \(Catalog.fingerprint(oid: oid))", operation: "describe \(table)")[0][0] ?? nil
        return TableInfo(name: table, oid: oid, kind: row[1]!, columns: columns, primaryKey: primaryKey.map { $0[0]! }, fingerprint: fingerprint)
    }

    /// An expression digesting a table's live columns, cheap enough for every
    /// probe: a change means the table must be described again.
    static func fingerprint(oid: UInt32) -> String {
        "(SELECT md5(string_agg(a.attname || ':' || a.atttypid || ':' || a.atttypmod || ':' || a.attnotnull, ',' ORDER BY a.attnum)) "
            + "FROM pg_attribute a WHERE a.attrelid = \(oid)::oid AND a.attnum > 0 AND NOT a.attisdropped)"
    }

    /// Describes the custom query from its result columns.
    func describe(query: String) async throws -> TableInfo {
        TableInfo(
            name: nil, oid: nil, kind: "q", columns: try await resultColumns("SELECT * FROM (\(query)) AS q", label: "query"),
            primaryKey: [], fingerprint: nil)
    }

    /// The columns `select` returns (run with LIMIT 0), with their type names.
    func resultColumns(_ select: String, label: String) async throws -> [ColumnInfo] {
        let sql = select + " LIMIT 0"
        let described: [(String, UInt32, Int32)] = try await client.withConnection { connection in
            let result = try connection.query(sql, operation: "describe \(label)")
            return (0..<result.columnCount).map { (result.columnName($0), result.columnType($0), result.columnModifier($0)) }
        }
        let oids = Set(described.map(\.1)).map { String($0) }
        let types = try await client.query(
            "SELECT oid, typname, typtype FROM pg_type WHERE oid = ANY($1::oid[])",
            [ArrayLiteral.encode(oids)], operation: "describe types of \(label)")
        var byOID: [UInt32: [String?]] = [:]
        for row in types { byOID[UInt32(row[0]!)!] = row }
        return described.map { name, oid, modifier in
            let type = byOID[oid]
            return ColumnInfo(
                name: name, typeOID: oid, typeModifier: modifier, typeName: type?[1] ?? "oid \(oid)",
                typeType: type?[2] ?? "b", notNull: nil, isSerial: false)
        }
    }
}
