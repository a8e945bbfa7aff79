/// The mapping between Connect schemas / values and JSON, shared by the converter.
enum ConnectJSON {
    // MARK: Schema -> JSON

    static func schemaJSON(_ schema: Schema) -> JSON {
        schemaMembers(schema, fieldName: nil)
    }

    /// Connect writes: type, children (fields | items | keys, values), optional,
    /// name, version, doc, parameters, default, and "field" last for struct fields.
    static func schemaMembers(_ schema: Schema, fieldName: String?) -> JSON {
        var members: [(String, JSON)] = [("type", .string(schema.type.rawValue))]
        switch schema.type {
        case .struct:
            members.append(("fields", .array(schema.fields.map { schemaMembers($0.schema, fieldName: $0.name) })))
        case .array:
            if let element = schema.valueSchema { members.append(("items", schemaJSON(element))) }
        case .map:
            if let key = schema.keySchema { members.append(("keys", schemaJSON(key))) }
            if let value = schema.valueSchema { members.append(("values", schemaJSON(value))) }
        default: break
        }
        members.append(("optional", .bool(schema.optional)))
        if let name = schema.name { members.append(("name", .string(name))) }
        if let version = schema.version { members.append(("version", .int(Int64(version)))) }
        if let doc = schema.doc { members.append(("doc", .string(doc))) }
        if !schema.parameters.isEmpty {
            let sorted = schema.parameters.sorted { parameterOrder($0.key) < parameterOrder($1.key) }
            members.append(("parameters", .object(sorted.map { ($0.key, JSON.string($0.value)) })))
        }
        if let defaultValue = schema.defaultValue, let json = try? payload(defaultValue, schema: schema, path: "default") {
            members.append(("default", json))
        }
        if let fieldName { members.append(("field", .string(fieldName))) }
        return .object(members)
    }

    /// Scale first, as Connect's Decimal builder adds it first; the rest by name.
    static func parameterOrder(_ key: String) -> String {
        key == LogicalType.scaleParameter ? "" : key
    }

    // MARK: JSON -> Schema

    static func schema(from json: JSON, path: String) throws(CodecError) -> Schema {
        guard case .object = json else { throw CodecError(path: path, reason: "schema must be a JSON object") }
        guard let typeName = json["type"]?.stringValue else { throw CodecError(path: path, reason: "schema has no \"type\"") }
        guard let type = SchemaType(rawValue: typeName) else { throw CodecError(path: path, reason: "unknown schema type '\(typeName)'") }
        var schema = Schema(type: type)
        if case .bool(let optional)? = json["optional"] { schema.optional = optional }
        schema.name = json["name"]?.stringValue
        if case .int(let version)? = json["version"] { schema.version = Int(version) }
        schema.doc = json["doc"]?.stringValue
        if case .object(let params)? = json["parameters"] {
            for (key, value) in params { schema.parameters[key] = value.stringValue ?? value.text }
        }
        switch type {
        case .struct:
            guard case .array(let fields)? = json["fields"] else { throw CodecError(path: path, reason: "struct schema has no \"fields\" array") }
            for (i, fieldJSON) in fields.enumerated() {
                guard let name = fieldJSON["field"]?.stringValue else {
                    throw CodecError(path: "\(path).fields[\(i)]", reason: "struct field has no \"field\" name")
                }
                schema.fields.append(Field(name, try self.schema(from: fieldJSON, path: "\(path).\(name)")))
            }
        case .array:
            guard let items = json["items"] else { throw CodecError(path: path, reason: "array schema has no \"items\"") }
            schema.valueSchema = try self.schema(from: items, path: "\(path).items")
        case .map:
            guard let keys = json["keys"], let values = json["values"] else { throw CodecError(path: path, reason: "map schema needs \"keys\" and \"values\"") }
            schema.keySchema = try self.schema(from: keys, path: "\(path).keys")
            schema.valueSchema = try self.schema(from: values, path: "\(path).values")
        default: break
        }
        if let defaultJSON = json["default"], defaultJSON != .null {
            schema.defaultValue = try value(from: defaultJSON, schema: schema, path: "\(path).default")
        }
        return schema
    }

    // MARK: Value -> JSON

    static func payload(_ value: Value, schema: Schema?, path: String) throws(CodecError) -> JSON {
        switch value {
        case .null:
            if let schema, !schema.optional, schema.defaultValue == nil {
                throw CodecError(path: path, reason: "null value for a required \(schema.type.rawValue) field")
            }
            return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Base64.encode(b))
        case .timestamp(let ms): return .int(ms)
        case .date(let days): return .int(Int64(days))
        case .time(let ms): return .int(Int64(ms))
        case .decimal(let d): return .string(Base64.encode(d.unscaled))
        case .array(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() { out.append(try payload(item, schema: schema?.valueSchema, path: "\(path)[\(i)]")) }
            return .array(out)
        case .map(let entries):
            // Connect writes string-keyed maps as objects and others as [[k,v],...].
            let stringKeyed = schema?.keySchema?.type == .string || (schema == nil && entries.allSatisfy { if case .string = $0.key { true } else { false } })
            if stringKeyed {
                var members: [(String, JSON)] = []
                for entry in entries {
                    guard case .string(let key) = entry.key else { throw CodecError(path: path, reason: "map key is not a string") }
                    members.append((key, try payload(entry.value, schema: schema?.valueSchema, path: "\(path).\(key)")))
                }
                return .object(members)
            }
            var pairs: [JSON] = []
            for entry in entries {
                pairs.append(.array([
                    try payload(entry.key, schema: schema?.keySchema, path: path),
                    try payload(entry.value, schema: schema?.valueSchema, path: path),
                ]))
            }
            return .array(pairs)
        case .struct(let fields):
            guard let schema else {
                var members: [(String, JSON)] = []
                for field in fields { members.append((field.name, try payload(field.value, schema: nil, path: "\(path).\(field.name)"))) }
                return .object(members)
            }
            guard schema.type == .struct else { throw CodecError(path: path, reason: "struct value for a \(schema.type.rawValue) schema") }
            var members: [(String, JSON)] = []
            members.reserveCapacity(schema.fields.count)
            for field in schema.fields {
                let fieldValue = fields.first { $0.name == field.name }?.value ?? .null
                members.append((field.name, try payload(fieldValue, schema: field.schema, path: "\(path).\(field.name)")))
            }
            return .object(members)
        }
    }

    // MARK: JSON -> Value

    static func value(from json: JSON, schema: Schema, path: String) throws(CodecError) -> Value {
        if case .null = json {
            if let defaultValue = schema.defaultValue { return defaultValue }
            guard schema.optional else { throw CodecError(path: path, reason: "null for a required \(schema.type.rawValue) field") }
            return .null
        }
        switch schema.name {
        case LogicalType.timestampName: return .timestamp(try integer(json, path: path))
        case LogicalType.dateName:
            let days = try integer(json, path: path)
            // Never truncated: a wrapped value would be another, valid-looking date.
            guard let date = Int32(exactly: days) else { throw CodecError(path: path, reason: "Date \(days) does not fit int32 days") }
            return .date(date)
        case LogicalType.timeName:
            let ms = try integer(json, path: path)
            // Connect's Time.toLogical rule: a time of day, 0 to 86400000 ms.
            guard (0...86_400_000).contains(ms) else {
                throw CodecError(path: path, reason: "Time \(ms) is not between 0 and 86400000 ms since midnight")
            }
            return .time(Int32(ms))
        case LogicalType.decimalName: return .decimal(try decimal(json, scale: schema.decimalScale ?? 0, path: path))
        default: break
        }
        switch schema.type {
        case .int8, .int16, .int32, .int64:
            let v = try integer(json, path: path)
            let bits: Int64 = schema.type == .int8 ? 8 : schema.type == .int16 ? 16 : schema.type == .int32 ? 32 : 64
            if bits < 64 && (v < -(1 << (bits - 1)) || v >= 1 << (bits - 1)) {
                throw CodecError(path: path, reason: "\(v) does not fit \(schema.type.rawValue)")
            }
            return .int(v)
        case .float32, .float64:
            switch json {
            case .int(let i): return .double(Double(i))
            case .double(let d): return .double(d)
            case .string(let s) where s == "NaN" || s == "Infinity" || s == "-Infinity": return .double(Double(s)!)
            default: throw mismatch(json, schema, path)
            }
        case .boolean:
            guard case .bool(let b) = json else { throw mismatch(json, schema, path) }
            return .bool(b)
        case .string:
            guard case .string(let s) = json else { throw mismatch(json, schema, path) }
            return .string(s)
        case .bytes:
            guard case .string(let s) = json, let bytes = Base64.decode(s) else { throw mismatch(json, schema, path) }
            return .bytes(bytes)
        case .array:
            guard case .array(let items) = json, let element = schema.valueSchema else { throw mismatch(json, schema, path) }
            var out: [Value] = []
            for (i, item) in items.enumerated() { out.append(try value(from: item, schema: element, path: "\(path)[\(i)]")) }
            return .array(out)
        case .map:
            guard let keySchema = schema.keySchema, let valueSchema = schema.valueSchema else { throw mismatch(json, schema, path) }
            var entries: [MapEntry] = []
            switch json {
            case .object(let members):
                for (k, v) in members {
                    entries.append(MapEntry(try value(from: .string(k), schema: keySchema, path: path), try value(from: v, schema: valueSchema, path: "\(path).\(k)")))
                }
            case .array(let pairs):
                for pair in pairs {
                    guard case .array(let kv) = pair, kv.count == 2 else { throw CodecError(path: path, reason: "map entry is not a [key, value] pair") }
                    entries.append(MapEntry(try value(from: kv[0], schema: keySchema, path: path), try value(from: kv[1], schema: valueSchema, path: path)))
                }
            default: throw mismatch(json, schema, path)
            }
            return .map(entries)
        case .struct:
            guard case .object = json else { throw mismatch(json, schema, path) }
            var fields: [NamedValue] = []
            fields.reserveCapacity(schema.fields.count)
            for field in schema.fields {
                let fieldJSON = json[field.name] ?? .null
                fields.append(NamedValue(field.name, try value(from: fieldJSON, schema: field.schema, path: "\(path).\(field.name)")))
            }
            return .struct(fields)
        }
    }

    static func integer(_ json: JSON, path: String) throws(CodecError) -> Int64 {
        switch json {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9.2e18: return Int64(d)
        default: throw CodecError(path: path, reason: "expected an integer, found \(json.text)")
        }
    }

    /// Decimals arrive as base64 unscaled bytes (decimal.format=BASE64, the
    /// default) or as JSON numbers (decimal.format=NUMERIC).
    static func decimal(_ json: JSON, scale: Int, path: String) throws(CodecError) -> DecimalValue {
        switch json {
        case .string(let s):
            guard let bytes = Base64.decode(s) else { throw CodecError(path: path, reason: "Decimal is not base64") }
            return DecimalValue(unscaled: bytes, scale: scale)
        case .int(let i):
            guard let d = DecimalValue(String(i), scale: scale) else { throw CodecError(path: path, reason: "Decimal out of range") }
            return d
        case .double(let v):
            guard let d = DecimalValue("\(v)", scale: scale) else { throw CodecError(path: path, reason: "Decimal \(v) does not fit scale \(scale)") }
            return d
        default:
            throw CodecError(path: path, reason: "expected a Decimal, found \(json.text)")
        }
    }

    static func mismatch(_ json: JSON, _ schema: Schema, _ path: String) -> CodecError {
        let shown = json.text
        let excerpt = shown.count > 60 ? String(shown.prefix(60)) + "…" : shown
        return CodecError(path: path, reason: "value \(excerpt) does not match schema type \(schema.type.rawValue)")
    }

    /// Schemaless JSON as Connect reads it: objects become string-keyed maps.
    static func schemaless(_ json: JSON) -> Value {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map(schemaless))
        case .object(let members): return .map(members.map { MapEntry(.string($0.0), schemaless($0.1)) })
        }
    }
}
