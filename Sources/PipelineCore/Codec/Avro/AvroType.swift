/// One node of an Avro schema: a kind, an optional logical type, and the
/// extra attributes the schema JSON carried (`connect.name`, `connect.version`,
/// `connect.parameters`, ...).
///
/// A named type (record, enum, fixed) appears in full where it is defined and
/// as ``Kind/reference(_:)`` everywhere after, exactly as in the schema JSON;
/// ``AvroSchema/namedTypes`` resolves references.
public struct AvroType: Sendable, Hashable {
    /// The physical shape of a node.
    public indirect enum Kind: Sendable, Hashable {
        case null, boolean, int, long, float, double, bytes, string
        case record(AvroRecord)
        case enumeration(AvroEnum)
        case array(items: AvroType)
        case map(values: AvroType)
        case union([AvroType])
        case fixed(AvroFixed)
        /// A named type defined elsewhere in the schema, by full name.
        case reference(String)
    }

    public var kind: Kind
    /// A logical type Tributary understands; unknown ones stay in ``properties``
    /// under `logicalType`, as Avro says readers ignore them.
    public var logicalType: AvroLogicalType?
    /// Attributes Avro does not define itself, by name.
    public var properties: [String: JSON]

    public init(_ kind: Kind, logicalType: AvroLogicalType? = nil, properties: [String: JSON] = [:]) {
        self.kind = kind
        self.logicalType = logicalType
        self.properties = properties
    }

    public static let null = AvroType(.null)
    public static let boolean = AvroType(.boolean)
    public static let int = AvroType(.int)
    public static let long = AvroType(.long)
    public static let float = AvroType(.float)
    public static let double = AvroType(.double)
    public static let bytes = AvroType(.bytes)
    public static let string = AvroType(.string)

    /// `connect.name`: the Connect schema name Confluent's AvroData recorded.
    public var connectName: String? { properties["connect.name"]?.stringValue }

    /// `connect.version`, when recorded.
    public var connectVersion: Int? {
        if case .int(let v)? = properties["connect.version"] { return Int(v) }
        return nil
    }

    /// `connect.doc`, when recorded.
    public var connectDoc: String? { properties["connect.doc"]?.stringValue }

    /// `connect.parameters`: the Connect schema parameters (decimal scale, ...).
    public var connectParameters: [String: String] {
        guard case .object(let members)? = properties["connect.parameters"] else { return [:] }
        var out: [String: String] = [:]
        for (key, value) in members { if let text = value.stringValue { out[key] = text } }
        return out
    }

    /// `connect.default`: a default AvroData records for a Connect schema.
    public var connectDefault: JSON? { properties["connect.default"] }

    /// The full name of a named type or reference, nil for the others.
    public var fullName: String? {
        switch kind {
        case .record(let r): return r.name.fullName
        case .enumeration(let e): return e.name.fullName
        case .fixed(let f): return f.name.fullName
        case .reference(let name): return name
        default: return nil
        }
    }

    /// The Avro type name of the kind (`record`, `int`, `union`, ...).
    public var typeName: String {
        switch kind {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .bytes: return "bytes"
        case .string: return "string"
        case .record: return "record"
        case .enumeration: return "enum"
        case .array: return "array"
        case .map: return "map"
        case .union: return "union"
        case .fixed: return "fixed"
        case .reference(let name): return name
        }
    }
}

/// A named type's name and namespace.
public struct AvroName: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// Nil or empty for the null namespace.
    public var namespace: String?

    public init(_ name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace?.isEmpty == true ? nil : namespace
    }

    /// Parses `a.b.C` into namespace `a.b` and name `C`; a dotless name takes
    /// `enclosing`.
    public init(fullOrShort text: String, enclosing: String?) {
        if let dot = text.lastIndex(of: ".") {
            self.init(String(text[text.index(after: dot)...]), namespace: String(text[..<dot]))
        } else {
            self.init(text, namespace: enclosing)
        }
    }

    /// `namespace.name`, or `name` in the null namespace.
    public var fullName: String { namespace.map { "\($0).\(name)" } ?? name }
    public var description: String { fullName }
}

/// A record's definition.
public struct AvroRecord: Sendable, Hashable {
    public var name: AvroName
    public var doc: String?
    public var aliases: [String]
    public var fields: [AvroField]
    /// True when declared as `error` (a record for Avro RPC).
    public var isError: Bool

    public init(name: AvroName, fields: [AvroField], doc: String? = nil, aliases: [String] = [], isError: Bool = false) {
        self.name = name
        self.fields = fields
        self.doc = doc
        self.aliases = aliases
        self.isError = isError
    }
}

/// A record field.
public struct AvroField: Sendable, Hashable {
    public var name: String
    public var type: AvroType
    public var doc: String?
    /// The field's default as written in the schema JSON (for a union, a value of its first branch).
    public var defaultValue: JSON?
    /// `ascending`, `descending` or `ignore`, when given.
    public var order: String?
    public var aliases: [String]
    /// Attributes Avro does not define itself.
    public var properties: [String: JSON]

    public init(
        _ name: String, _ type: AvroType, doc: String? = nil, defaultValue: JSON? = nil,
        order: String? = nil, aliases: [String] = [], properties: [String: JSON] = [:]
    ) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultValue = defaultValue
        self.order = order
        self.aliases = aliases
        self.properties = properties
    }
}

/// An enum's definition.
public struct AvroEnum: Sendable, Hashable {
    public var name: AvroName
    public var symbols: [String]
    public var doc: String?
    public var aliases: [String]
    /// The symbol a reader uses for symbols it does not know.
    public var defaultSymbol: String?

    public init(name: AvroName, symbols: [String], doc: String? = nil, aliases: [String] = [], defaultSymbol: String? = nil) {
        self.name = name
        self.symbols = symbols
        self.doc = doc
        self.aliases = aliases
        self.defaultSymbol = defaultSymbol
    }
}

/// A fixed's definition.
public struct AvroFixed: Sendable, Hashable {
    public var name: AvroName
    public var size: Int
    public var doc: String?
    public var aliases: [String]

    public init(name: AvroName, size: Int, doc: String? = nil, aliases: [String] = []) {
        self.name = name
        self.size = size
        self.doc = doc
        self.aliases = aliases
    }
}

/// The logical types of the Avro specification that Tributary maps to Connect.
public enum AvroLogicalType: Sendable, Hashable {
    /// On bytes or fixed: an unscaled two's-complement big-endian integer.
    case decimal(precision: Int, scale: Int)
    /// On int: days since the epoch.
    case date
    /// On int: milliseconds after midnight.
    case timeMillis
    /// On long: microseconds after midnight.
    case timeMicros
    /// On long: milliseconds since the epoch, UTC.
    case timestampMillis
    /// On long: microseconds since the epoch, UTC.
    case timestampMicros
    /// On long: milliseconds since the epoch, local time.
    case localTimestampMillis
    /// On long: microseconds since the epoch, local time.
    case localTimestampMicros
    /// On string.
    case uuid

    /// The `logicalType` attribute's value.
    public var name: String {
        switch self {
        case .decimal: return "decimal"
        case .date: return "date"
        case .timeMillis: return "time-millis"
        case .timeMicros: return "time-micros"
        case .timestampMillis: return "timestamp-millis"
        case .timestampMicros: return "timestamp-micros"
        case .localTimestampMillis: return "local-timestamp-millis"
        case .localTimestampMicros: return "local-timestamp-micros"
        case .uuid: return "uuid"
        }
    }
}
