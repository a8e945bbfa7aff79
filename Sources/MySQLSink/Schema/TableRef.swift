/// A table, optionally in another database than the connection's.
public struct TableRef: Sendable, Hashable, CustomStringConvertible {
    /// Nil means the connection's default database.
    public var database: String?
    /// The table name, unquoted.
    public var name: String

    /// A table in `database`, or in the connection's default database.
    public init(database: String? = nil, name: String) {
        self.database = database
        self.name = name
    }

    /// Parses a formatted table name as Kafka Connect's JDBC sink does:
    /// `table` or `database.table`. Names with more parts are refused rather
    /// than guessed at.
    public init(parsing text: String) throws(SchemaError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: self.init(name: parts[0])
        case 2: self.init(database: parts[0], name: parts[1])
        default:
            throw SchemaError(table: text, column: nil, reason: "table name has \(parts.count) dot-separated parts; use 'table' or 'database.table' (set table.name.format, e.g. to route topics like a.b.c)")
        }
        try SQLIdentifier.validate(name, what: "table name")
        if let database { try SQLIdentifier.validate(database, what: "database name") }
    }

    /// The quoted, qualified name for SQL: `` `db`.`t` `` or `` `t` ``.
    public var sql: String {
        (database.map { SQLIdentifier.quote($0) + "." } ?? "") + SQLIdentifier.quote(name)
    }

    public var description: String { sql }
}

/// Quoting of MySQL identifiers.
public enum SQLIdentifier {
    /// `name` in backticks with embedded backticks doubled: always a single
    /// identifier, whatever it contains.
    public static func quote(_ name: String) -> String {
        // Scalars, not Characters: a backtick followed by a combining mark is
        // one Character that is not equal to "`", but still a backtick to MySQL.
        var quoted = String.UnicodeScalarView()
        quoted.append("`")
        for scalar in name.unicodeScalars {
            if scalar == "`" { quoted.append("`") }
            quoted.append(scalar)
        }
        quoted.append("`")
        return String(quoted)
    }

    /// MySQL's own limits on identifiers, checked up front for a clear error.
    static func validate(_ name: String, what: String) throws(SchemaError) {
        if name.isEmpty { throw SchemaError(table: name, column: nil, reason: "\(what) is empty") }
        if name.utf8.contains(0) { throw SchemaError(table: name, column: nil, reason: "\(what) contains a NUL character") }
        if name.count > 64 { throw SchemaError(table: name, column: nil, reason: "\(what) is longer than MySQL's 64 characters") }
        if name.hasSuffix(" ") { throw SchemaError(table: name, column: nil, reason: "\(what) ends with a space, which MySQL does not allow") }
    }
}

/// A table or column cannot take the records' schema: missing table with
/// `auto.create=false`, missing column, incompatible type, required column
/// that cannot be added.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// The quoted table name.
    public var table: String
    /// The column at fault, when there is one.
    public var column: String?
    public var reason: String

    /// An error about `table` (and `column`).
    public init(table: String, column: String?, reason: String) {
        self.table = table
        self.column = column
        self.reason = reason
    }

    public var description: String {
        "table \(table)" + (column.map { ", column \(SQLIdentifier.quote($0))" } ?? "") + ": \(reason)"
    }
}
