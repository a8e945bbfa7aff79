/// A value in Kafka Connect's data model, typed by a ``Schema``.
///
/// Logical types have cases of their own so sinks never have to guess
/// whether an int64 is a count or a point in time.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Any of int8, int16, int32 and int64.
    case int(Int64)
    /// float or double.
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case array([Value])
    case map([MapEntry])
    /// Field values in the order of the struct schema's fields.
    case `struct`([NamedValue])
    /// `org.apache.kafka.connect.data.Timestamp`: milliseconds since the epoch (UTC).
    case timestamp(Int64)
    /// `org.apache.kafka.connect.data.Date`: days since the epoch.
    case date(Int32)
    /// `org.apache.kafka.connect.data.Time`: milliseconds since midnight.
    case time(Int32)
    /// `org.apache.kafka.connect.data.Decimal`.
    case decimal(DecimalValue)

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value of the struct field `name`, or nil when absent or not a struct.
    public subscript(field name: String) -> Value? {
        guard case .struct(let fields) = self else { return nil }
        return fields.first { $0.name == name }?.value
    }
}

/// One field of a struct value.
public struct NamedValue: Sendable, Hashable {
    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}

/// One entry of a map value; maps keep insertion order.
public struct MapEntry: Sendable, Hashable {
    public var key: Value
    public var value: Value

    public init(_ key: Value, _ value: Value) {
        self.key = key
        self.value = value
    }
}

/// A value together with the schema that types it (nil for schemaless data).
public struct SchemaAndValue: Sendable, Hashable {
    public var schema: Schema?
    public var value: Value

    public init(schema: Schema?, value: Value) {
        self.schema = schema
        self.value = value
    }
}
