/// A table the generator fills: a `bigserial` key column, typed columns, and
/// how to produce a row (and an update) from a key value.
///
/// Rows come from a function of the key so that they are deterministic and
/// this module needs no data generator of its own (DataGen describes USERS
/// with `UserTableLayout`; the CLI joins the two).
public struct GeneratedTable: Sendable {
    public var name: TableName
    /// The `bigserial PRIMARY KEY` column.
    public var keyColumn: String
    /// The other columns with their SQL types (`text NOT NULL`, ...).
    public var columns: [(name: String, sqlType: String)]
    /// The columns an insert writes (the rest take their defaults).
    public var insertColumns: [String]
    /// The values of `insertColumns` for a key, as text; nil is NULL.
    public var row: @Sendable (Int64) -> [String?]
    /// Columns an update sets (besides `updated_at`, when present).
    public var updateColumns: [String]
    /// The values of `updateColumns` for (key, revision).
    public var update: @Sendable (Int64, UInt64) -> [String]

    public init(
        name: TableName, keyColumn: String, columns: [(name: String, sqlType: String)], insertColumns: [String]? = nil,
        row: @escaping @Sendable (Int64) -> [String?],
        updateColumns: [String] = [], update: @escaping @Sendable (Int64, UInt64) -> [String] = { _, _ in [] }
    ) {
        self.name = name
        self.keyColumn = keyColumn
        self.columns = columns
        self.insertColumns = insertColumns ?? columns.map(\.name)
        self.row = row
        self.updateColumns = updateColumns
        self.update = update
    }

    /// `CREATE TABLE IF NOT EXISTS`.
    public var createStatement: String {
        let body = [SQL.quote(keyColumn) + " bigserial PRIMARY KEY"] + columns.map { SQL.quote($0.name) + " " + $0.sqlType }
        return "CREATE TABLE IF NOT EXISTS \(name.quoted) (\n  " + body.joined(separator: ",\n  ") + "\n)"
    }

    /// True when the table has an `updated_at` column that updates bump.
    var hasUpdatedAt: Bool { columns.contains { $0.name == "updated_at" } }
}

/// A schema-qualified table name. Without a schema, the connection's search_path decides.
public struct TableName: Sendable, Hashable, CustomStringConvertible {
    public var schema: String?
    public var table: String

    public init(schema: String? = nil, _ table: String) {
        self.schema = schema
        self.table = table
    }

    /// Parses `table` or `schema.table` (no quoting; use the initializer for names with dots).
    public init(parsing text: String) {
        if let dot = text.firstIndex(of: ".") {
            self.init(schema: String(text[..<dot]), String(text[text.index(after: dot)...]))
        } else {
            self.init(text)
        }
    }

    /// `"schema"."table"` or `"table"`.
    public var quoted: String {
        schema.map { SQL.quote(schema: $0, table: table) } ?? SQL.quote(table)
    }

    /// `schema.table` or `table`, for messages.
    public var description: String { schema.map { "\($0).\(table)" } ?? table }
}

/// PostgreSQL's COPY text format: tab-separated, newline-terminated, `\N` for
/// NULL, backslash escapes for the separators themselves.
enum CopyText {
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")

    /// Appends one row's fields.
    static func appendRow(_ fields: [String?], to buffer: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { buffer.append(tab) }
            if let field { appendField(field, to: &buffer) } else { buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")]) }
        }
        buffer.append(newline)
    }

    static func appendField(_ text: String, to buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case tab: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case newline: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }
}
