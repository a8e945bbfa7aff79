/// Turns Avro schema JSON into ``AvroType`` trees, registering named types as
/// it meets them so later (and recursive) references resolve.
struct AvroSchemaParser {
    private(set) var named: [String: AvroType] = [:]
    /// Names whose definition is being parsed (a record referring to itself).
    private var pending = Set<String>()

    static let primitives: [String: AvroType.Kind] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long,
        "float": .float, "double": .double, "bytes": .bytes, "string": .string,
    ]

    /// Attributes Avro itself defines; anything else on a type is a property.
    private static let reserved: Set<String> = [
        "type", "name", "namespace", "doc", "aliases", "fields", "symbols", "items", "values",
        "size", "default", "order", "logicalType", "precision", "scale",
    ]

    mutating func parse(_ json: JSON, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        switch json {
        case .string(let name):
            return try reference(name, namespace: namespace, path: path)
        case .array(let branches):
            var types: [AvroType] = []
            for (i, branch) in branches.enumerated() {
                types.append(try parse(branch, namespace: namespace, path: "\(path)[\(i)]."))
            }
            try AvroSchemaParser.checkUnion(types, path: path)
            return AvroType(.union(types))
        case .object:
            return try parseObject(json, namespace: namespace, path: path)
        default:
            throw AvroSchemaError(path: path, reason: "a schema is a string, an object or an array, not \(json.text)")
        }
    }

    private mutating func reference(_ name: String, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        if let kind = AvroSchemaParser.primitives[name] { return AvroType(kind) }
        let candidates = name.contains(".") || namespace == nil ? [name] : ["\(namespace!).\(name)", name]
        for full in candidates where named[full] != nil || pending.contains(full) {
            return AvroType(.reference(full))
        }
        throw AvroSchemaError(path: path, reason: "\(name) is not a defined type")
    }

    private mutating func parseObject(_ json: JSON, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        guard let typeJSON = json["type"] else {
            throw AvroSchemaError(path: path, reason: "no \"type\"")
        }
        let properties = AvroSchemaParser.properties(of: json)
        guard case .string(let typeName) = typeJSON else {
            // {"type": {...}} or {"type": [...]}: the nested schema is the type.
            return try parse(typeJSON, namespace: namespace, path: "\(path)type.")
        }
        var type: AvroType
        switch typeName {
        case "record", "error":
            type = try parseRecord(json, isError: typeName == "error", namespace: namespace, path: path)
        case "enum":
            type = try parseEnum(json, namespace: namespace, path: path)
        case "fixed":
            type = try parseFixed(json, namespace: namespace, path: path)
        case "array":
            guard let items = json["items"] else { throw AvroSchemaError(path: path, reason: "an array has no \"items\"") }
            type = AvroType(.array(items: try parse(items, namespace: namespace, path: "\(path)items.")))
        case "map":
            guard let values = json["values"] else { throw AvroSchemaError(path: path, reason: "a map has no \"values\"") }
            type = AvroType(.map(values: try parse(values, namespace: namespace, path: "\(path)values.")))
        default:
            type = try reference(typeName, namespace: namespace, path: path)
        }
        type.properties = properties
        try AvroSchemaParser.applyLogicalType(json, to: &type)
        if case .record = type.kind, let full = type.fullName { named[full] = type }
        if case .enumeration = type.kind, let full = type.fullName { named[full] = type }
        if case .fixed = type.kind, let full = type.fullName { named[full] = type }
        return type
    }

    private mutating func define(_ json: JSON, namespace: String?, path: String) throws(AvroSchemaError) -> AvroName {
        guard case .string(let text)? = json["name"] else {
            throw AvroSchemaError(path: path, reason: "a named type has no \"name\"")
        }
        var enclosing = namespace
        if case .string(let ns)? = json["namespace"] { enclosing = ns }
        let name = AvroName(fullOrShort: text, enclosing: enclosing)
        for part in (name.namespace.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) } ?? []) + [name.name] {
            guard AvroSchemaParser.isValidName(part) else {
                throw AvroSchemaError(path: path, reason: "\"\(name.fullName)\" is not a valid Avro name")
            }
        }
        if AvroSchemaParser.primitives[name.fullName] != nil {
            throw AvroSchemaError(path: path, reason: "\(name.fullName) is a primitive type's name")
        }
        if named[name.fullName] != nil || pending.contains(name.fullName) {
            throw AvroSchemaError(path: path, reason: "\(name.fullName) is defined twice")
        }
        return name
    }

    private mutating func parseRecord(_ json: JSON, isError: Bool, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try define(json, namespace: namespace, path: path)
        guard case .array(let fieldsJSON)? = json["fields"] else {
            throw AvroSchemaError(path: path, reason: "record \(name) has no \"fields\" array")
        }
        pending.insert(name.fullName)
        defer { pending.remove(name.fullName) }
        var fields: [AvroField] = []
        var fieldNames = Set<String>()
        for (i, fieldJSON) in fieldsJSON.enumerated() {
            let fieldPath = "\(path)fields[\(i)]."
            guard case .string(let fieldName)? = fieldJSON["name"], AvroSchemaParser.isValidName(fieldName) else {
                throw AvroSchemaError(path: fieldPath, reason: "a field needs a valid \"name\"")
            }
            guard fieldNames.insert(fieldName).inserted else {
                throw AvroSchemaError(path: fieldPath, reason: "field \(fieldName) is defined twice")
            }
            guard let typeJSON = fieldJSON["type"] else {
                throw AvroSchemaError(path: fieldPath, reason: "field \(fieldName) has no \"type\"")
            }
            let type = try parse(typeJSON, namespace: name.namespace, path: "\(fieldPath)type.")
            var field = AvroField(fieldName, type)
            field.doc = fieldJSON["doc"]?.stringValue
            field.defaultValue = fieldJSON["default"]
            field.order = fieldJSON["order"]?.stringValue
            field.aliases = AvroSchemaParser.strings(fieldJSON["aliases"])
            field.properties = AvroSchemaParser.properties(of: fieldJSON)
            fields.append(field)
        }
        let record = AvroRecord(
            name: name, fields: fields, doc: json["doc"]?.stringValue,
            aliases: AvroSchemaParser.strings(json["aliases"]), isError: isError)
        return AvroType(.record(record))
    }

    private mutating func parseEnum(_ json: JSON, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try define(json, namespace: namespace, path: path)
        guard case .array(let symbolsJSON)? = json["symbols"] else {
            throw AvroSchemaError(path: path, reason: "enum \(name) has no \"symbols\" array")
        }
        var symbols: [String] = []
        for symbol in symbolsJSON {
            guard let text = symbol.stringValue, AvroSchemaParser.isValidName(text), !symbols.contains(text) else {
                throw AvroSchemaError(path: path, reason: "enum \(name) has an invalid or repeated symbol \(symbol.text)")
            }
            symbols.append(text)
        }
        let defaultSymbol = json["default"]?.stringValue
        if let defaultSymbol, !symbols.contains(defaultSymbol) {
            throw AvroSchemaError(path: path, reason: "enum \(name)'s default \(defaultSymbol) is not one of its symbols")
        }
        return AvroType(.enumeration(AvroEnum(
            name: name, symbols: symbols, doc: json["doc"]?.stringValue,
            aliases: AvroSchemaParser.strings(json["aliases"]), defaultSymbol: defaultSymbol)))
    }

    private mutating func parseFixed(_ json: JSON, namespace: String?, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try define(json, namespace: namespace, path: path)
        guard case .int(let size)? = json["size"], size >= 0, size <= Int64(Int32.max) else {
            throw AvroSchemaError(path: path, reason: "fixed \(name) needs a non-negative integer \"size\"")
        }
        return AvroType(.fixed(AvroFixed(
            name: name, size: Int(size), doc: json["doc"]?.stringValue, aliases: AvroSchemaParser.strings(json["aliases"]))))
    }

    /// Sets the logical type when it is known and valid for the type; an
    /// unknown or invalid one is kept as a plain `logicalType` property, as
    /// the specification tells readers to ignore it.
    private static func applyLogicalType(_ json: JSON, to type: inout AvroType) throws(AvroSchemaError) {
        guard case .string(let name)? = json["logicalType"] else { return }
        let logical: AvroLogicalType?
        switch (name, type.kind) {
        case ("decimal", .bytes), ("decimal", .fixed):
            logical = decimal(json, type: type)
        case ("date", .int): logical = .date
        case ("time-millis", .int): logical = .timeMillis
        case ("time-micros", .long): logical = .timeMicros
        case ("timestamp-millis", .long): logical = .timestampMillis
        case ("timestamp-micros", .long): logical = .timestampMicros
        case ("local-timestamp-millis", .long): logical = .localTimestampMillis
        case ("local-timestamp-micros", .long): logical = .localTimestampMicros
        case ("uuid", .string): logical = .uuid
        default: logical = nil
        }
        if let logical {
            type.logicalType = logical
        } else {
            type.properties["logicalType"] = .string(name)
            for key in ["precision", "scale"] { if let v = json[key] { type.properties[key] = v } }
        }
    }

    private static func decimal(_ json: JSON, type: AvroType) -> AvroLogicalType? {
        guard case .int(let precision)? = json["precision"], precision > 0 else { return nil }
        var scale: Int64 = 0
        if let scaleJSON = json["scale"] {
            guard case .int(let s) = scaleJSON, s >= 0, s <= precision else { return nil }
            scale = s
        }
        if case .fixed(let fixed) = type.kind {
            // The largest precision `size` bytes of two's complement hold.
            let maxPrecision = fixed.size == 0 ? 0 : Int((Double(8 * fixed.size - 1) * 0.30102999566398120).rounded(.down))
            if precision > maxPrecision { return nil }
        }
        return .decimal(precision: Int(precision), scale: Int(scale))
    }

    static func checkUnion(_ branches: [AvroType], path: String) throws(AvroSchemaError) {
        var seen = Set<String>()
        for branch in branches {
            if case .union = branch.kind {
                throw AvroSchemaError(path: path, reason: "a union may not directly contain a union")
            }
            let key = branch.fullName ?? branch.typeName
            guard seen.insert(key).inserted else {
                throw AvroSchemaError(path: path, reason: "a union has two branches of type \(key)")
            }
        }
    }

    private static func properties(of json: JSON) -> [String: JSON] {
        guard case .object(let members) = json else { return [:] }
        var out: [String: JSON] = [:]
        for (key, value) in members where !reserved.contains(key) { out[key] = value }
        return out
    }

    private static func strings(_ json: JSON?) -> [String] {
        guard case .array(let items)? = json else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }
}
