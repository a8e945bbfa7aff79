/// The physical types of Kafka Connect's data model.
///
/// Raw values match Connect's JSON schema type names exactly, so the JSON
/// converter can use them verbatim (`float` and `double`, not float32/64).
public enum SchemaType: String, Sendable, Hashable, CaseIterable {
    case int8, int16, int32, int64
    case float32 = "float"
    case float64 = "double"
    case boolean, string, bytes, array, map
    case `struct`
}

/// A field of a struct schema.
public struct Field: Sendable, Hashable {
    public var name: String
    public var schema: Schema

    public init(_ name: String, _ schema: Schema) {
        self.name = name
        self.schema = schema
    }
}

/// A Kafka Connect schema: a type, optionality, an optional logical name
/// (Timestamp, Date, Time, Decimal), and children for containers.
public struct Schema: Sendable, Hashable {
    public var type: SchemaType
    public var optional: Bool
    /// Logical type name, for example `org.apache.kafka.connect.data.Timestamp`,
    /// or a record name for structs (Connect uses the table name).
    public var name: String?
    public var version: Int?
    public var doc: String?
    public var parameters: [String: String]
    public var defaultValue: Value?
    /// Fields of a struct, in order.
    public var fields: [Field]
    // Arrays give the recursive element schemas the indirection a struct needs.
    private var keyStorage: [Schema]
    private var valueStorage: [Schema]

    public init(
        type: SchemaType, optional: Bool = false, name: String? = nil, version: Int? = nil,
        doc: String? = nil, parameters: [String: String] = [:], defaultValue: Value? = nil,
        fields: [Field] = [], keySchema: Schema? = nil, valueSchema: Schema? = nil
    ) {
        self.type = type
        self.optional = optional
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = parameters
        self.defaultValue = defaultValue
        self.fields = fields
        self.keyStorage = keySchema.map { [$0] } ?? []
        self.valueStorage = valueSchema.map { [$0] } ?? []
    }

    /// Key schema of a map.
    public var keySchema: Schema? {
        get { keyStorage.first }
        set { keyStorage = newValue.map { [$0] } ?? [] }
    }

    /// Element schema of an array, or value schema of a map.
    public var valueSchema: Schema? {
        get { valueStorage.first }
        set { valueStorage = newValue.map { [$0] } ?? [] }
    }

    /// The field named `name`, if this is a struct schema that has it.
    public func field(named name: String) -> Field? {
        fields.first { $0.name == name }
    }

    /// This schema marked optional.
    public var asOptional: Schema {
        var copy = self
        copy.optional = true
        return copy
    }
}

// MARK: - Builders for the common schemas

extension Schema {
    public static let int8 = Schema(type: .int8)
    public static let int16 = Schema(type: .int16)
    public static let int32 = Schema(type: .int32)
    public static let int64 = Schema(type: .int64)
    public static let float32 = Schema(type: .float32)
    public static let float64 = Schema(type: .float64)
    public static let boolean = Schema(type: .boolean)
    public static let string = Schema(type: .string)
    public static let bytes = Schema(type: .bytes)

    /// A struct schema with the given record name and fields.
    public static func `struct`(_ name: String?, _ fields: [Field], optional: Bool = false) -> Schema {
        Schema(type: .struct, optional: optional, name: name, fields: fields)
    }

    /// An array schema.
    public static func array(_ element: Schema, optional: Bool = false) -> Schema {
        Schema(type: .array, optional: optional, valueSchema: element)
    }

    /// A map schema.
    public static func map(_ key: Schema, _ value: Schema, optional: Bool = false) -> Schema {
        Schema(type: .map, optional: optional, keySchema: key, valueSchema: value)
    }
}

/// Kafka Connect's logical types: a name on top of a physical type.
public enum LogicalType {
    public static let timestampName = "org.apache.kafka.connect.data.Timestamp"
    public static let dateName = "org.apache.kafka.connect.data.Date"
    public static let timeName = "org.apache.kafka.connect.data.Time"
    public static let decimalName = "org.apache.kafka.connect.data.Decimal"
    /// The parameter that carries a Decimal's scale.
    public static let scaleParameter = "scale"

    /// Milliseconds since the epoch, on int64.
    public static func timestamp(optional: Bool = false) -> Schema {
        Schema(type: .int64, optional: optional, name: timestampName, version: 1)
    }

    /// Days since the epoch, on int32.
    public static func date(optional: Bool = false) -> Schema {
        Schema(type: .int32, optional: optional, name: dateName, version: 1)
    }

    /// Milliseconds since midnight, on int32.
    public static func time(optional: Bool = false) -> Schema {
        Schema(type: .int32, optional: optional, name: timeName, version: 1)
    }

    /// An arbitrary-precision decimal with a fixed scale, on bytes.
    /// `precision` is carried as `connect.decimal.precision` as the JDBC source does.
    public static func decimal(scale: Int, precision: Int? = nil, optional: Bool = false) -> Schema {
        var parameters = [scaleParameter: String(scale)]
        if let precision { parameters["connect.decimal.precision"] = String(precision) }
        return Schema(type: .bytes, optional: optional, name: decimalName, version: 1, parameters: parameters)
    }
}

extension Schema {
    /// The scale of a Decimal schema, or nil when this is not a Decimal.
    public var decimalScale: Int? {
        guard name == LogicalType.decimalName else { return nil }
        return parameters[LogicalType.scaleParameter].flatMap(Int.init) ?? 0
    }

    /// The precision of a Decimal schema when the producer recorded one.
    public var decimalPrecision: Int? {
        parameters["connect.decimal.precision"].flatMap(Int.init)
    }
}
