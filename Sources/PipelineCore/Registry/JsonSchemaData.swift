/// Reads a JSON Schema document as a Connect schema, as Confluent's
/// JsonSchemaData does for `io.confluent.connect.json.JsonSchemaConverter`:
/// `connect.type`, `connect.index`, `connect.version`, `connect.parameters`
/// and `title` (the Connect name) where Confluent's converter wrote them, and
/// the plain JSON Schema meaning elsewhere (`integer` is int64, `number`
/// float64, a property not `required` or a `oneOf` with null is optional).
public enum JsonSchemaData {
    /// The Connect schema of a JSON Schema document.
    public static func connectSchema(from json: JSON) throws(CodecError) -> Schema {
        try schema(json, path: "")
    }

    static func schema(_ json: JSON, path: String) throws(CodecError) -> Schema {
        guard case .object = json else {
            if case .bool(true) = json { throw CodecError(path: path, reason: "an unconstrained schema (true) has no Connect form") }
            throw CodecError(path: path, reason: "a JSON Schema is an object, not \(json.text)")
        }
        // {"oneOf": [{"type": "null"}, X]} and {"type": ["null", T]}: an optional X.
        if case .array(let branches)? = json["oneOf"] ?? json["anyOf"] {
            let nonNull = branches.filter { $0["type"]?.stringValue != "null" }
            guard nonNull.count == 1 else {
                throw CodecError(path: path, reason: "a oneOf of \(nonNull.count) non-null schemas has no Connect form here")
            }
            var inner = try schema(nonNull[0], path: path)
            if nonNull.count < branches.count { inner.optional = true }
            return inner
        }
        var typeName = json["type"]?.stringValue
        var optional = false
        if case .array(let types)? = json["type"] {
            let names = types.compactMap(\.stringValue)
            let nonNull = names.filter { $0 != "null" }
            guard nonNull.count == 1 else { throw CodecError(path: path, reason: "a type list \(json["type"]!.text) has no Connect form here") }
            typeName = nonNull[0]
            optional = nonNull.count < names.count
        }
        let connectType = json["connect.type"]?.stringValue
        var schema: Schema
        switch typeName {
        case "integer":
            switch connectType {
            case "int8": schema = .int8
            case "int16": schema = .int16
            case "int32": schema = .int32
            default: schema = .int64
            }
        case "number":
            // A Decimal is a JSON number whose title names it.
            schema = connectType == "float32" ? .float32 : (connectType == "bytes" ? .bytes : .float64)
        case "boolean": schema = .boolean
        case "string": schema = connectType == "bytes" ? .bytes : .string
        case "array":
            guard let items = json["items"] else { throw CodecError(path: path, reason: "an array without \"items\"") }
            schema = .array(try self.schema(items, path: path + "[]"))
        case "object":
            if connectType == "map" || (json["properties"] == nil && json["additionalProperties"].map(isSchema) == true) {
                schema = .map(.string, try self.schema(json["additionalProperties"]!, path: path + "{}"))
            } else {
                schema = .struct(nil, try fields(json, path: path))
            }
        default:
            throw CodecError(path: path, reason: "JSON Schema type \(json["type"]?.text ?? "(none)") has no Connect form")
        }
        schema.optional = schema.optional || optional
        if case .int(let version)? = json["connect.version"] { schema.version = Int(version) }
        if case .object(let members)? = json["connect.parameters"] {
            for (key, value) in members { if let text = value.stringValue { schema.parameters[key] = text } }
        }
        if let title = json["title"]?.stringValue { schema.name = title }
        if let doc = json["description"]?.stringValue { schema.doc = doc }
        if schema.name == LogicalType.decimalName { schema.type = .bytes }
        return schema
    }

    private static func isSchema(_ json: JSON) -> Bool {
        if case .object = json { return true }
        return false
    }

    /// Properties in `connect.index` order where given, else as written.
    private static func fields(_ json: JSON, path: String) throws(CodecError) -> [Field] {
        guard case .object(let members)? = json["properties"] else { return [] }
        var required = Set<String>()
        if case .array(let names)? = json["required"] { required = Set(names.compactMap(\.stringValue)) }
        var fields: [(index: Int64, field: Field)] = []
        for (position, (name, property)) in members.enumerated() {
            var field = try schema(property, path: path.isEmpty ? name : "\(path).\(name)")
            if !required.contains(name) { field.optional = true }
            var index = Int64(position)
            if case .int(let given)? = property["connect.index"] { index = given }
            fields.append((index, Field(name, field)))
        }
        return fields.sorted { $0.index < $1.index }.map(\.field)
    }
}

extension JsonSchemaData {
    /// The JSON Schema Confluent's JsonSchemaConverter writes for a Connect
    /// schema: `connect.type` on numbers and bytes, `connect.index` on
    /// properties, `title` for names, a `oneOf` with null for optional schemas.
    public static func jsonSchema(for schema: Schema) throws(CodecError) -> JSON {
        var members: [(String, JSON)]
        switch schema.type {
        case .int8, .int16, .int32, .int64:
            members = [("type", .string("integer")), ("connect.type", .string(schema.type.rawValue))]
        case .float32: members = [("type", .string("number")), ("connect.type", .string("float32"))]
        case .float64: members = [("type", .string("number")), ("connect.type", .string("float64"))]
        case .boolean: members = [("type", .string("boolean"))]
        case .string: members = [("type", .string("string"))]
        case .bytes:
            // A Decimal is written as a JSON number, other bytes as base64 text.
            members = [("type", .string(schema.name == LogicalType.decimalName ? "number" : "string")), ("connect.type", .string("bytes"))]
        case .array:
            members = [("type", .string("array")), ("items", try jsonSchema(for: schema.valueSchema ?? .string))]
        case .map:
            guard schema.keySchema?.type == .string else {
                throw CodecError(path: "", reason: "a map with \(schema.keySchema?.type.rawValue ?? "no") keys has no JSON Schema form here")
            }
            members = [("type", .string("object")), ("additionalProperties", try jsonSchema(for: schema.valueSchema ?? .string)), ("connect.type", .string("map"))]
        case .struct:
            var properties: [(String, JSON)] = []
            for (index, field) in schema.fields.enumerated() {
                guard case .object(var property) = try jsonSchema(for: field.schema) else { continue }
                property.append(("connect.index", .int(Int64(index))))
                properties.append((field.name, .object(property)))
            }
            members = [("type", .string("object")), ("properties", .object(properties))]
            let required = schema.fields.filter { !$0.schema.optional }.map { JSON.string($0.name) }
            if !required.isEmpty { members.append(("required", .array(required))) }
        }
        if let name = schema.name { members.append(("title", .string(name))) }
        if let version = schema.version { members.append(("connect.version", .int(Int64(version)))) }
        if !schema.parameters.isEmpty {
            members.append(("connect.parameters", .object(schema.parameters.keys.sorted().map { ($0, .string(schema.parameters[$0]!)) })))
        }
        if let doc = schema.doc { members.append(("description", .string(doc))) }
        guard schema.optional else { return .object(members) }
        return .object([("oneOf", .array([.object([("type", .string("null"))]), .object(members)]))])
    }
}
