import PipelineCore

/// A column the sink writes: its name, the Connect schema of its values, and
/// whether it belongs to the primary key.
public struct ColumnSpec: Sendable, Hashable {
    public var name: String
    public var schema: Schema
    public var isPrimaryKey: Bool

    /// A column named `name` holding values of `schema`.
    public init(name: String, schema: Schema, isPrimaryKey: Bool = false) {
        self.name = name
        self.schema = schema
        self.isPrimaryKey = isPrimaryKey
    }
}

/// Connect schema to MySQL column type, as Kafka Connect's JDBC sink maps
/// them for MySQL.
public enum MySQLTypeMapping {
    /// Largest DECIMAL precision and scale MariaDB accepts.
    static let maxDecimalPrecision = 65
    static let maxDecimalScale = 38

    /// The column type for values of `schema`. Key columns get types an index
    /// can hold: VARCHAR(256) instead of TEXT, VARBINARY(1024) instead of BLOB.
    public static func sqlType(for schema: Schema, isPrimaryKey: Bool = false) throws(SchemaError) -> String {
        switch schema.name {
        case LogicalType.decimalName:
            let scale = schema.decimalScale ?? 0
            guard (0...maxDecimalScale).contains(scale) else {
                throw SchemaError(table: "", column: nil, reason: "Decimal scale \(scale) is outside MySQL's 0...\(maxDecimalScale)")
            }
            // Without a recorded precision take the widest; never narrower than the scale.
            let precision = min(maxDecimalPrecision, max(schema.decimalPrecision ?? maxDecimalPrecision, scale, 1))
            return "DECIMAL(\(precision),\(scale))"
        case LogicalType.timestampName: return "DATETIME(3)"
        case LogicalType.dateName: return "DATE"
        case LogicalType.timeName: return "TIME(3)"
        default: break
        }
        switch schema.type {
        case .int8: return "TINYINT"
        case .int16: return "SMALLINT"
        case .int32: return "INT"
        case .int64: return "BIGINT"
        case .float32: return "FLOAT"
        case .float64: return "DOUBLE"
        case .boolean: return "TINYINT(1)"
        case .string: return isPrimaryKey ? "VARCHAR(256)" : "TEXT"
        case .bytes: return isPrimaryKey ? "VARBINARY(1024)" : "BLOB"
        case .array, .map, .struct:
            throw SchemaError(table: "", column: nil, reason: "type \(schema.type.rawValue) cannot be written to a MySQL column; flatten it first (e.g. with the Flatten transform)")
        }
    }

    /// The value bound for `value` of a column typed by `schema`.
    static func sqlValue(_ value: Value) throws(SchemaError) -> SQLValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d):
            guard d.isFinite else { throw SchemaError(table: "", column: nil, reason: "\(d) cannot be stored in MySQL") }
            return .double(d)
        case .string(let s): return .text(s)
        case .bytes(let b): return .bytes(b)
        case .timestamp(let ms): return try inRange(.datetime(milliseconds: ms))
        case .date(let days): return try inRange(.date(days: days))
        case .time(let ms): return .time(milliseconds: ms)
        case .decimal(let d): return .decimal(d.description)
        case .array, .map, .struct:
            throw SchemaError(table: "", column: nil, reason: "nested values (array, map, struct) cannot be written to a MySQL column")
        }
    }

    /// `value`, unless MySQL cannot store it exactly: a per-record data error.
    private static func inRange(_ value: SQLValue) throws(SchemaError) -> SQLValue {
        if let reason = value.outOfRangeReason { throw SchemaError(table: "", column: nil, reason: reason) }
        return value
    }
}
