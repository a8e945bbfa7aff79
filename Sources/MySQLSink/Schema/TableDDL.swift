import PipelineCore

/// CREATE TABLE and ALTER TABLE statements built from column specs.
///
/// Identifiers are always quoted. Default values cannot be bound parameters
/// in DDL, so they are rendered from typed values only: numbers from
/// integers and doubles, text and bytes as hexadecimal literals (no quoting
/// or escaping that a value could break out of), dates from their parts.
public enum TableDDL {
    /// `CREATE TABLE IF NOT EXISTS` with the primary key, InnoDB (the sink
    /// needs transactions) and utf8mb4 (the server default may be latin1).
    public static func create(_ table: TableRef, columns: [ColumnSpec]) throws(SchemaError) -> String {
        var lines: [String] = []
        for column in columns { lines.append(try definition(of: column, in: table)) }
        let keys = columns.filter(\.isPrimaryKey).map { SQLIdentifier.quote($0.name) }
        if !keys.isEmpty { lines.append("PRIMARY KEY(\(keys.joined(separator: ", ")))") }
        return "CREATE TABLE IF NOT EXISTS \(table.sql) (\n" + lines.map { "  " + $0 }.joined(separator: ",\n")
            + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    }

    /// One `ALTER TABLE ... ADD COLUMN ...` for all `columns`.
    public static func addColumns(_ table: TableRef, columns: [ColumnSpec]) throws(SchemaError) -> String {
        var parts: [String] = []
        for column in columns { parts.append("ADD COLUMN " + (try definition(of: column, in: table))) }
        return "ALTER TABLE \(table.sql) " + parts.joined(separator: ", ")
    }

    /// `` `name` TYPE NULL|NOT NULL [DEFAULT literal] ``.
    static func definition(of column: ColumnSpec, in table: TableRef) throws(SchemaError) -> String {
        let type: String
        do {
            type = try MySQLTypeMapping.sqlType(for: column.schema, isPrimaryKey: column.isPrimaryKey)
        } catch {
            throw SchemaError(table: table.sql, column: column.name, reason: error.reason)
        }
        // Primary key columns are NOT NULL in MySQL whatever the schema says.
        var text = "\(SQLIdentifier.quote(column.name)) \(type) " + (column.schema.optional && !column.isPrimaryKey ? "NULL" : "NOT NULL")
        if let value = column.schema.defaultValue, !value.isNull {
            guard let literal = literal(value) else {
                throw SchemaError(table: table.sql, column: column.name, reason: "default value \(value) cannot be written as a MySQL default")
            }
            text += " DEFAULT \(literal)"
        }
        return text
    }

    /// A SQL literal built from a typed value, or nil when there is none.
    static func literal(_ value: Value) -> String? {
        switch value {
        case .null: return "NULL"
        case .bool(let b): return b ? "1" : "0"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? "\(d)" : nil
        // A hex literal converted to text: the text is never spliced in. (Not
        // `_utf8mb4 X'..'`: MariaDB 10.11 stores that default unescaped and then
        // fails to parse it back when the text contains a quote.)
        case .string(let s): return "CONVERT(X'\(hex(Array(s.utf8)))' USING utf8mb4)"
        case .bytes(let b): return "X'\(hex(b))'"
        case .decimal(let d): return d.description
        case .timestamp(let ms):
            return SQLValue.datetime(milliseconds: ms).outOfRangeReason == nil ? "'\(CivilDateTime(epochMilliseconds: ms).datetimeText)'" : nil
        case .date(let days):
            return SQLValue.date(days: days).outOfRangeReason == nil ? "'\(CivilDateTime(daysSinceEpoch: Int64(days)).dateText)'" : nil
        case .time(let ms):
            guard ms >= 0 else { return nil }
            return "'\(CivilDateTime(epochMilliseconds: Int64(ms)).timeText)'"
        case .array, .map, .struct: return nil
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
