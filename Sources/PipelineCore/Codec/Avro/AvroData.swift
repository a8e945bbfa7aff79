/// Maps Connect schemas to Avro schemas and back as Confluent's AvroData
/// does, so topics read and written here match Confluent's AvroConverter:
///
/// - int8/int16 are Avro ints with `connect.type`; Decimal is `bytes` with the
///   `decimal` logical type (precision from `connect.decimal.precision`, else
///   64); Date, Time and Timestamp are `date`, `time-millis` and `timestamp-millis`;
/// - an optional schema is a union with null (`["null", T]` with default
///   null, or `[T, "null"]` when it has a non-null default);
/// - Connect names, versions, docs and parameters travel as `connect.name`,
///   `connect.version`, `connect.doc` and `connect.parameters`;
/// - a struct without a name is the record `io.confluent.connect.avro.ConnectDefault`.
public enum AvroData {
    public static let defaultRecordName = "io.confluent.connect.avro.ConnectDefault"
    /// The precision AvroData gives a Decimal that does not record one.
    public static let defaultDecimalPrecision = 64
    static let enumParameter = "io.confluent.connect.avro.Enum"
    static let unionName = "io.confluent.connect.avro.Union"
    static let fixedSizeParameter = "connect.fixed.size"

    /// The Avro schema for a Connect schema.
    public static func avroSchema(for schema: Schema) throws(CodecError) -> AvroSchema {
        var names = NameAllocator()
        let root = try avroType(schema, path: "", names: &names)
        do { return try AvroSchema(root: root) } catch {
            throw CodecError(path: error.path, reason: error.reason)
        }
    }

    /// The Connect schema for an Avro schema. Recursive Avro types have no
    /// Connect form and are refused.
    public static func connectSchema(for avro: AvroSchema) throws(CodecError) -> Schema {
        var visiting = Set<String>()
        return try connectSchema(avro.root, in: avro, path: "", visiting: &visiting)
    }

    // MARK: - Connect to Avro

    /// Numbers repeated default record names as AvroData does (ConnectDefault, ConnectDefault2, ...).
    struct NameAllocator {
        var defaults = 0
        mutating func next() -> String {
            defaults += 1
            return defaults == 1 ? AvroData.defaultRecordName : "\(AvroData.defaultRecordName)\(defaults)"
        }
    }

    static func avroType(_ schema: Schema, path: String, names: inout NameAllocator) throws(CodecError) -> AvroType {
        var base = try baseType(schema, path: path, names: &names)
        if let version = schema.version { base.properties["connect.version"] = .int(Int64(version)) }
        if let doc = schema.doc { base.properties["connect.doc"] = .string(doc) }
        if !schema.parameters.isEmpty {
            base.properties["connect.parameters"] = .object(schema.parameters.keys.sorted().map { ($0, .string(schema.parameters[$0]!)) })
        }
        if let defaultValue = schema.defaultValue, !defaultValue.isNull {
            base.properties["connect.default"] = try defaultJSON(defaultValue, schema: schema, path: path)
        }
        if let name = schema.name { base.properties["connect.name"] = .string(name) }
        guard schema.optional else { return base }
        if let defaultValue = schema.defaultValue, !defaultValue.isNull { return AvroType(.union([base, .null])) }
        return AvroType(.union([.null, base]))
    }

    private static func baseType(_ schema: Schema, path: String, names: inout NameAllocator) throws(CodecError) -> AvroType {
        switch schema.name {
        case LogicalType.decimalName where schema.type == .bytes:
            let scale = schema.decimalScale ?? 0
            let precision = schema.decimalPrecision ?? defaultDecimalPrecision
            return AvroType(.bytes, logicalType: .decimal(precision: precision, scale: scale))
        case LogicalType.dateName where schema.type == .int32: return AvroType(.int, logicalType: .date)
        case LogicalType.timeName where schema.type == .int32: return AvroType(.int, logicalType: .timeMillis)
        case LogicalType.timestampName where schema.type == .int64: return AvroType(.long, logicalType: .timestampMillis)
        default: break
        }
        switch schema.type {
        case .int8: return AvroType(.int, properties: ["connect.type": .string("int8")])
        case .int16: return AvroType(.int, properties: ["connect.type": .string("int16")])
        case .int32: return .int
        case .int64: return .long
        case .float32: return .float
        case .float64: return .double
        case .boolean: return .boolean
        case .string: return .string
        case .bytes: return .bytes
        case .array:
            guard let items = schema.valueSchema else { throw CodecError(path: path, reason: "an array schema without an element schema") }
            return AvroType(.array(items: try avroType(items, path: "\(path)[]", names: &names)))
        case .map:
            guard let key = schema.keySchema, let value = schema.valueSchema else { throw CodecError(path: path, reason: "a map schema without key and value schemas") }
            guard key.type == .string, !key.optional else {
                throw CodecError(path: path, reason: "a map with \(key.type.rawValue) keys has no Avro form here (Avro maps have string keys)")
            }
            return AvroType(.map(values: try avroType(value, path: "\(path){}", names: &names)))
        case .struct:
            let name = AvroName(fullOrShort: schema.name ?? names.next(), enclosing: nil)
            try checkName(name.fullName, path: path)
            var fields: [AvroField] = []
            for field in schema.fields {
                let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
                guard AvroSchemaParser.isValidName(field.name) else {
                    throw CodecError(path: fieldPath, reason: "\"\(field.name)\" is not a valid Avro field name")
                }
                let type = try avroType(field.schema, path: fieldPath, names: &names)
                var defaultValue: JSON?
                if let value = field.schema.defaultValue, !value.isNull {
                    defaultValue = try defaultJSON(value, schema: field.schema, path: fieldPath)
                } else if field.schema.optional {
                    defaultValue = .null
                }
                fields.append(AvroField(field.name, type, doc: nil, defaultValue: defaultValue))
            }
            return AvroType(.record(AvroRecord(name: name, fields: fields, doc: schema.doc)))
        }
    }

    private static func checkName(_ fullName: String, path: String) throws(CodecError) {
        for part in fullName.split(separator: ".", omittingEmptySubsequences: false) where !AvroSchemaParser.isValidName(String(part)) {
            throw CodecError(path: path, reason: "\"\(fullName)\" is not a valid Avro record name")
        }
    }

    /// A Connect value as an Avro default (Avro's JSON encoding: bytes as ISO-8859-1 text).
    static func defaultJSON(_ value: Value, schema: Schema, path: String) throws(CodecError) -> JSON {
        switch value {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int(v)
        case .timestamp(let v): return .int(v)
        case .date(let v): return .int(Int64(v))
        case .time(let v): return .int(Int64(v))
        case .double(let v): return .double(v)
        case .string(let v): return .string(v)
        case .bytes(let v): return .string(latin1(v))
        case .decimal(let d): return .string(latin1(d.unscaled))
        case .array(let items):
            guard let element = schema.valueSchema else { throw CodecError(path: path, reason: "an array default without an element schema") }
            var out: [JSON] = []
            for item in items { out.append(try defaultJSON(item, schema: element, path: path)) }
            return .array(out)
        case .map(let entries):
            guard let valueSchema = schema.valueSchema else { throw CodecError(path: path, reason: "a map default without a value schema") }
            var out: [(String, JSON)] = []
            for entry in entries {
                guard case .string(let key) = entry.key else { throw CodecError(path: path, reason: "an Avro map default needs string keys") }
                out.append((key, try defaultJSON(entry.value, schema: valueSchema, path: path)))
            }
            return .object(out)
        case .struct(let fields):
            var out: [(String, JSON)] = []
            for field in fields {
                guard let fieldSchema = schema.field(named: field.name)?.schema else { continue }
                out.append((field.name, try defaultJSON(field.value, schema: fieldSchema, path: path)))
            }
            return .object(out)
        }
    }

    static func latin1(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    // MARK: - Avro to Connect

    static func connectSchema(_ type: AvroType, in avro: AvroSchema, path: String, visiting: inout Set<String>) throws(CodecError) -> Schema {
        let type = avro.resolve(type)
        var schema: Schema
        switch type.kind {
        case .null:
            throw CodecError(path: path, reason: "a null outside a union has no Connect form")
        case .boolean: schema = .boolean
        case .int:
            switch (type.logicalType, type.properties["connect.type"]?.stringValue) {
            case (.date?, _): schema = LogicalType.date()
            case (.timeMillis?, _): schema = LogicalType.time()
            case (_, "int8"?): schema = .int8
            case (_, "int16"?): schema = .int16
            default: schema = .int32
            }
        case .long: schema = type.logicalType == .timestampMillis ? LogicalType.timestamp() : .int64
        case .float: schema = .float32
        case .double: schema = .float64
        case .string: schema = .string
        case .bytes, .fixed:
            if case .decimal(let precision, let scale)? = type.logicalType {
                schema = LogicalType.decimal(scale: scale, precision: precision)
            } else {
                schema = .bytes
                if case .fixed(let fixed) = type.kind {
                    schema.name = fixed.name.fullName
                    schema.parameters[fixedSizeParameter] = String(fixed.size)
                }
            }
        case .enumeration(let e):
            schema = .string
            schema.name = e.name.fullName
            schema.parameters[enumParameter] = e.name.fullName
            for symbol in e.symbols { schema.parameters["\(enumParameter).\(symbol)"] = symbol }
        case .array(let items):
            schema = .array(try connectSchema(items, in: avro, path: "\(path)[]", visiting: &visiting))
        case .map(let values):
            schema = .map(.string, try connectSchema(values, in: avro, path: "\(path){}", visiting: &visiting))
        case .record(let record):
            let full = record.name.fullName
            guard visiting.insert(full).inserted else {
                throw CodecError(path: path, reason: "record \(full) refers to itself; recursive types have no Connect form")
            }
            defer { visiting.remove(full) }
            var fields: [Field] = []
            for field in record.fields {
                let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
                var fieldSchema = try connectSchema(field.type, in: avro, path: fieldPath, visiting: &visiting)
                if let json = field.defaultValue, fieldSchema.defaultValue == nil, !(json == .null) {
                    fieldSchema.defaultValue = try connectDefault(json, schema: fieldSchema, path: fieldPath)
                }
                fields.append(Field(field.name, fieldSchema))
            }
            schema = .struct(full, fields)
            schema.doc = record.doc
        case .union(let branches):
            let nonNull = branches.filter { avro.resolve($0).kind != .null }
            let hasNull = nonNull.count < branches.count
            if nonNull.count == 1 {
                schema = try connectSchema(nonNull[0], in: avro, path: path, visiting: &visiting)
            } else {
                // AvroData's general union: a struct with one optional field per branch.
                var fields: [Field] = []
                for branch in nonNull {
                    let resolved = avro.resolve(branch)
                    let name = unionFieldName(resolved)
                    fields.append(Field(name, try connectSchema(branch, in: avro, path: "\(path).\(name)", visiting: &visiting).asOptional))
                }
                schema = .struct(unionName, fields)
            }
            if hasNull { schema.optional = true }
            return schema
        case .reference(let name):
            throw CodecError(path: path, reason: "\(name) is not defined")
        }
        if let version = type.connectVersion { schema.version = version }
        if let doc = type.connectDoc { schema.doc = doc }
        for (key, value) in type.connectParameters { schema.parameters[key] = value }
        // A logical type keeps Connect's own name; otherwise connect.name restores the original name.
        if let name = type.connectName, schema.name == nil || type.logicalType == nil { schema.name = name }
        if let json = type.connectDefault {
            schema.defaultValue = try connectDefault(json, schema: schema, path: path)
        }
        return schema
    }

    /// A general union branch's field name, as AvroData names it.
    static func unionFieldName(_ type: AvroType) -> String {
        switch type.kind {
        case .record(let r): return r.name.name
        case .enumeration(let e): return e.name.name
        case .fixed(let f): return f.name.name
        default: return type.typeName
        }
    }

    /// An Avro default (JSON) as a Connect value of `schema`.
    static func connectDefault(_ json: JSON, schema: Schema, path: String) throws(CodecError) -> Value {
        func bad() -> CodecError { CodecError(path: path, reason: "default \(json.text) does not fit \(schema.type.rawValue)") }
        if case .null = json {
            guard schema.optional else { throw bad() }
            return .null
        }
        switch schema.name {
        case LogicalType.timestampName: guard case .int(let v) = json else { throw bad() }; return .timestamp(v)
        case LogicalType.dateName: guard case .int(let v) = json, let d = Int32(exactly: v) else { throw bad() }; return .date(d)
        case LogicalType.timeName: guard case .int(let v) = json, let t = Int32(exactly: v) else { throw bad() }; return .time(t)
        case LogicalType.decimalName:
            guard case .string(let s) = json, let bytes = latin1Bytes(s) else { throw bad() }
            return .decimal(DecimalValue(unscaled: bytes, scale: schema.decimalScale ?? 0))
        default: break
        }
        switch (schema.type, json) {
        case (.int8, .int(let v)), (.int16, .int(let v)), (.int32, .int(let v)), (.int64, .int(let v)): return .int(v)
        case (.float32, .int(let v)), (.float64, .int(let v)): return .double(Double(v))
        case (.float32, .double(let v)), (.float64, .double(let v)): return .double(v)
        case (.boolean, .bool(let v)): return .bool(v)
        case (.string, .string(let v)): return .string(v)
        case (.bytes, .string(let v)):
            guard let bytes = latin1Bytes(v) else { throw bad() }
            return .bytes(bytes)
        case (.array, .array(let items)):
            guard let element = schema.valueSchema else { throw bad() }
            var out: [Value] = []
            for item in items { out.append(try connectDefault(item, schema: element, path: path)) }
            return .array(out)
        case (.map, .object(let members)):
            guard let valueSchema = schema.valueSchema else { throw bad() }
            var out: [MapEntry] = []
            for (key, value) in members { out.append(MapEntry(.string(key), try connectDefault(value, schema: valueSchema, path: path))) }
            return .map(out)
        case (.struct, .object):
            var out: [NamedValue] = []
            for field in schema.fields {
                if let member = json[field.name] {
                    out.append(NamedValue(field.name, try connectDefault(member, schema: field.schema, path: "\(path).\(field.name)")))
                } else {
                    out.append(NamedValue(field.name, field.schema.defaultValue ?? .null))
                }
            }
            return .struct(out)
        default:
            throw bad()
        }
    }

    static func latin1Bytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xff else { return nil }
            out.append(UInt8(scalar.value))
        }
        return out
    }
}
