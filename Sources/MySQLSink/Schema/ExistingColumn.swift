import PipelineCore

/// A column as `information_schema.COLUMNS` describes it.
public struct ExistingColumn: Sendable, Hashable {
    public var name: String
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `datetime`, ...
    public var dataType: String
    /// `COLUMN_TYPE`, lower case: `int(11) unsigned`, `tinyint(1)`, ...
    public var columnType: String
    /// `IS_NULLABLE = 'YES'`.
    public var isNullable: Bool
    /// `NUMERIC_SCALE` for DECIMAL columns.
    public var scale: Int?

    /// A column description; types are compared in lower case.
    public init(name: String, dataType: String, columnType: String, isNullable: Bool, scale: Int? = nil) {
        self.name = name
        self.dataType = dataType.lowercased()
        self.columnType = columnType.lowercased()
        self.isNullable = isNullable
        self.scale = scale
    }

    private static let integerRank = ["tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "integer": 4, "bigint": 5]
    private static let textTypes: Set = ["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"]
    private static let binaryTypes: Set = ["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"]

    /// Why values of `schema` cannot be stored in this column without loss,
    /// or nil when they can. Auto-evolution only adds columns, so a column of
    /// the wrong type is an incompatible schema change.
    public func incompatibility(with schema: Schema) -> String? {
        let stored: Bool
        switch schema.name {
        case LogicalType.decimalName:
            stored = dataType == "decimal" && (scale ?? 0) >= (schema.decimalScale ?? 0)
        case LogicalType.timestampName: stored = dataType == "datetime" || dataType == "timestamp"
        case LogicalType.dateName: stored = ["date", "datetime", "timestamp"].contains(dataType)
        case LogicalType.timeName: stored = dataType == "time"
        default:
            switch schema.type {
            case .int8, .int16, .int32, .int64:
                let needed = [SchemaType.int8: 1, .int16: 2, .int32: 4, .int64: 5][schema.type]!
                if let rank = Self.integerRank[dataType] {
                    stored = rank >= needed
                } else {
                    stored = dataType == "decimal" || (dataType == "double" && needed <= 4)
                }
            case .boolean: stored = Self.integerRank[dataType] != nil || dataType == "bit"
            case .float32: stored = ["float", "double"].contains(dataType)
            case .float64: stored = dataType == "double"
            case .string: stored = Self.textTypes.contains(dataType)
            case .bytes: stored = Self.binaryTypes.contains(dataType)
            case .array, .map, .struct: stored = false
            }
        }
        if stored { return nil }
        let wanted = (try? MySQLTypeMapping.sqlType(for: schema)) ?? schema.type.rawValue
        return "column is \(columnType.uppercased()) but the records' \(schema.name ?? schema.type.rawValue) needs \(wanted); auto.evolve only adds columns, so change the column or the schema"
    }
}
