/// One Avro schema compiled for reading and writing Connect ``Value``s:
/// references resolved, logical types, union branches and field defaults
/// decided once, so each record is a walk over a small tree.
///
/// Values follow the Connect schema ``connect`` (``AvroData``'s mapping);
/// struct fields are matched by name, so a record can be written with a
/// registry schema whose fields are in another order.
public final class AvroCodec: Sendable {
    public let avro: AvroSchema
    /// The Connect form of ``avro``.
    public let connect: Schema
    let root: AvroNode

    /// Compiles a writer's or reader's Avro schema.
    public init(avro: AvroSchema) throws(CodecError) {
        self.avro = avro
        self.connect = try AvroData.connectSchema(for: avro)
        var visiting = Set<String>()
        self.root = try AvroNode.compile(avro.root, in: avro, visiting: &visiting)
    }

    /// Compiles the Avro form of a Connect schema.
    public convenience init(connect: Schema) throws(CodecError) {
        try self.init(avro: try AvroData.avroSchema(for: connect))
    }

    /// Appends `value`'s Avro binary encoding to `out`.
    public func encode(_ value: Value, to out: inout [UInt8]) throws(CodecError) {
        try root.encode(value, to: &out)
    }

    /// `value`'s Avro binary encoding.
    public func encode(_ value: Value) throws(CodecError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        try root.encode(value, to: &out)
        return out
    }

    /// Decodes one datum that must fill `bytes` exactly.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(CodecError) -> Value {
        var cursor = AvroCursor(bytes)
        let value = try root.decode(&cursor)
        guard cursor.isAtEnd else {
            throw CodecError(path: "", reason: "\(bytes.count - cursor.index) bytes left after the Avro datum")
        }
        return value
    }

    /// Decodes one datum that must fill `bytes` exactly.
    public func decode(_ bytes: some Collection<UInt8>) throws(CodecError) -> Value {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CodecError) -> Value in try decode(buffer) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(CodecError) in try decode(buffer) }
    }
}

/// A compiled Avro type.
indirect enum AvroNode: Sendable {
    case null, boolean
    /// int8, int16 or int32 (`connect.type`), with the Connect type's range.
    case int(min: Int64, max: Int64)
    case date, time
    case long, timestamp
    case float, double, string, bytes
    case decimal(scale: Int, fixedSize: Int?)
    case fixed(size: Int)
    case enumeration([String])
    case array(AvroNode)
    case map(AvroNode)
    case record([AvroNodeField])
    /// A union of null and one other type.
    case optional(nullIndex: Int, AvroNode)
    /// Any other union: in Connect a struct with one field per non-null branch.
    case union(branches: [AvroNode], fields: [String?])

    static func compile(_ type: AvroType, in avro: AvroSchema, visiting: inout Set<String>) throws(CodecError) -> AvroNode {
        let type = avro.resolve(type)
        switch type.kind {
        case .null: return .null
        case .boolean: return .boolean
        case .int:
            switch (type.logicalType, type.properties["connect.type"]?.stringValue) {
            case (.date?, _): return .date
            case (.timeMillis?, _): return .time
            case (_, "int8"?): return .int(min: Int64(Int8.min), max: Int64(Int8.max))
            case (_, "int16"?): return .int(min: Int64(Int16.min), max: Int64(Int16.max))
            default: return .int(min: Int64(Int32.min), max: Int64(Int32.max))
            }
        case .long: return type.logicalType == .timestampMillis ? .timestamp : .long
        case .float: return .float
        case .double: return .double
        case .string: return .string
        case .bytes:
            if case .decimal(_, let scale)? = type.logicalType { return .decimal(scale: scale, fixedSize: nil) }
            return .bytes
        case .fixed(let fixed):
            if case .decimal(_, let scale)? = type.logicalType { return .decimal(scale: scale, fixedSize: fixed.size) }
            return .fixed(size: fixed.size)
        case .enumeration(let e): return .enumeration(e.symbols)
        case .array(let items): return .array(try compile(items, in: avro, visiting: &visiting))
        case .map(let values): return .map(try compile(values, in: avro, visiting: &visiting))
        case .record(let record):
            let full = record.name.fullName
            guard visiting.insert(full).inserted else {
                throw CodecError(path: "", reason: "record \(full) refers to itself; recursive types have no Connect form")
            }
            defer { visiting.remove(full) }
            var fields: [AvroNodeField] = []
            for field in record.fields {
                // What a value without this field writes (use.latest.version with a schema that added fields).
                var defaultValue: Value?
                if let json = field.defaultValue, json != .null {
                    var inner = visiting
                    defaultValue = try? AvroData.connectDefault(
                        json, schema: AvroData.connectSchema(field.type, in: avro, path: field.name, visiting: &inner), path: field.name)
                }
                fields.append(AvroNodeField(name: field.name, node: try compile(field.type, in: avro, visiting: &visiting), defaultValue: defaultValue))
            }
            return .record(fields)
        case .union(let branches):
            let nodes = try branches.map { (branch) throws(CodecError) in try compile(branch, in: avro, visiting: &visiting) }
            let nullIndex = nodes.firstIndex { if case .null = $0 { return true } else { return false } }
            if nodes.count == 2, let nullIndex { return .optional(nullIndex: nullIndex, nodes[1 - nullIndex]) }
            if nodes.count == 1, nullIndex == nil { return .optional(nullIndex: -1, nodes[0]) }
            let names = branches.map { branch -> String? in
                let resolved = avro.resolve(branch)
                return resolved.kind == .null ? nil : AvroData.unionFieldName(resolved)
            }
            return .union(branches: nodes, fields: names)
        case .reference(let name):
            throw CodecError(path: "", reason: "\(name) is not defined")
        }
    }
}

struct AvroNodeField: Sendable {
    let name: String
    let node: AvroNode
    /// The field's default as a Connect value (nil: none, or null).
    var defaultValue: Value? = nil
}

// MARK: - Encoding

extension AvroNode {
    func encode(_ value: Value, to out: inout [UInt8]) throws(CodecError) {
        func mismatch() -> CodecError { CodecError(path: "", reason: "\(AvroNode.describe(value)) does not fit Avro \(name)") }
        switch (self, value) {
        case (.null, .null): break
        case (.boolean, .bool(let v)): out.append(v ? 1 : 0)
        case (.int(let min, let max), .int(let v)):
            guard v >= min, v <= max else { throw CodecError(path: "", reason: "\(v) is out of range [\(min), \(max)]") }
            AvroBinary.writeLong(v, to: &out)
        case (.date, .date(let v)): AvroBinary.writeLong(Int64(v), to: &out)
        case (.time, .time(let v)): AvroBinary.writeLong(Int64(v), to: &out)
        case (.date, .int(let v)), (.time, .int(let v)):
            guard Int32(exactly: v) != nil else { throw mismatch() }
            AvroBinary.writeLong(v, to: &out)
        case (.long, .int(let v)), (.timestamp, .timestamp(let v)), (.timestamp, .int(let v)):
            AvroBinary.writeLong(v, to: &out)
        case (.float, .double(let v)): AvroBinary.writeFloat(Float(v), to: &out)
        case (.float, .int(let v)): AvroBinary.writeFloat(Float(v), to: &out)
        case (.double, .double(let v)): AvroBinary.writeDouble(v, to: &out)
        case (.double, .int(let v)): AvroBinary.writeDouble(Double(v), to: &out)
        case (.string, .string(let v)):
            var text = v
            text.withUTF8 { AvroBinary.writeBytes($0, to: &out) }
        case (.bytes, .bytes(let v)): AvroBinary.writeBytes(v, to: &out)
        case (.decimal(let scale, let fixedSize), .decimal(let d)):
            try AvroNode.writeDecimal(d, scale: scale, fixedSize: fixedSize, to: &out)
        case (.fixed(let size), .bytes(let v)):
            guard v.count == size else { throw CodecError(path: "", reason: "\(v.count) bytes for a fixed of \(size)") }
            out.append(contentsOf: v)
        case (.enumeration(let symbols), .string(let v)):
            guard let index = symbols.firstIndex(of: v) else { throw CodecError(path: "", reason: "\"\(v)\" is not one of the enum's symbols") }
            AvroBinary.writeLong(Int64(index), to: &out)
        case (.array(let items), .array(let values)):
            if !values.isEmpty {
                AvroBinary.writeLong(Int64(values.count), to: &out)
                for (i, item) in values.enumerated() {
                    do { try items.encode(item, to: &out) } catch { throw error.under("[\(i)]") }
                }
            }
            out.append(0)
        case (.map(let valueNode), .map(let entries)):
            if !entries.isEmpty {
                AvroBinary.writeLong(Int64(entries.count), to: &out)
                for entry in entries {
                    guard case .string(var key) = entry.key else { throw CodecError(path: "", reason: "an Avro map key must be a string") }
                    key.withUTF8 { AvroBinary.writeBytes($0, to: &out) }
                    do { try valueNode.encode(entry.value, to: &out) } catch { throw error.under(key) }
                }
            }
            out.append(0)
        case (.record(let fields), .struct(let values)):
            for (i, field) in fields.enumerated() {
                let fieldValue: Value
                if i < values.count, values[i].name == field.name {
                    fieldValue = values[i].value
                } else {
                    fieldValue = values.first { $0.name == field.name }?.value ?? field.defaultValue ?? .null
                }
                do { try field.node.encode(fieldValue, to: &out) } catch { throw error.under(field.name) }
            }
        case (.optional(let nullIndex, _), .null):
            guard nullIndex >= 0 else { throw mismatch() }
            AvroBinary.writeLong(Int64(nullIndex), to: &out)
        case (.optional(let nullIndex, let node), _):
            AvroBinary.writeLong(nullIndex == 0 ? 1 : 0, to: &out)
            try node.encode(value, to: &out)
        case (.union(let branches, let names), .null):
            guard let index = branches.firstIndex(where: { if case .null = $0 { return true } else { return false } }) else { throw mismatch() }
            _ = names
            AvroBinary.writeLong(Int64(index), to: &out)
        case (.union(let branches, let names), .struct(let members)):
            guard let set = members.first(where: { !$0.value.isNull }), let index = names.firstIndex(of: set.name) else {
                return try encode(.null, to: &out)
            }
            AvroBinary.writeLong(Int64(index), to: &out)
            do { try branches[index].encode(set.value, to: &out) } catch { throw error.under(set.name) }
        default:
            throw mismatch()
        }
    }

    static func writeDecimal(_ value: DecimalValue, scale: Int, fixedSize: Int?, to out: inout [UInt8]) throws(CodecError) {
        var d = value
        if d.scale != scale {
            guard let rescaled = DecimalValue(d.description, scale: scale) else {
                throw CodecError(path: "", reason: "\(d) does not fit a Decimal of scale \(scale)")
            }
            d = rescaled
        }
        guard let size = fixedSize else { return AvroBinary.writeBytes(d.unscaled, to: &out) }
        guard d.unscaled.count <= size else { throw CodecError(path: "", reason: "\(d) does not fit \(size) bytes") }
        out.append(contentsOf: repeatElement(d.isNegative ? 0xff : 0, count: size - d.unscaled.count))
        out.append(contentsOf: d.unscaled)
    }

    /// The Avro type's name, for errors.
    var name: String {
        switch self {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .date: return "int (date)"
        case .time: return "int (time-millis)"
        case .long: return "long"
        case .timestamp: return "long (timestamp-millis)"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .decimal: return "decimal"
        case .fixed: return "fixed"
        case .enumeration: return "enum"
        case .array: return "array"
        case .map: return "map"
        case .record: return "record"
        case .optional(_, let node): return "[null, \(node.name)]"
        case .union: return "union"
        }
    }

    /// A value's kind, for errors: never the value itself, which may be a secret.
    static func describe(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .array: return "an array"
        case .map: return "a map"
        case .struct: return "a struct"
        case .timestamp: return "a Timestamp"
        case .date: return "a Date"
        case .time: return "a Time"
        case .decimal: return "a Decimal"
        }
    }
}

// MARK: - Decoding

extension AvroNode {
    func decode(_ cursor: inout AvroCursor) throws(CodecError) -> Value {
        switch self {
        case .null: return .null
        case .boolean: return .bool(try cursor.readBoolean(""))
        case .int(let min, let max):
            let v = Int64(try cursor.readInt(""))
            guard v >= min, v <= max else { throw cursor.error("", "\(v) is out of range [\(min), \(max)]") }
            return .int(v)
        case .date: return .date(try cursor.readInt(""))
        case .time: return .time(try cursor.readInt(""))
        case .long: return .int(try cursor.readLong(""))
        case .timestamp: return .timestamp(try cursor.readLong(""))
        case .float: return .double(Double(try cursor.readFloat("")))
        case .double: return .double(try cursor.readDouble(""))
        case .string: return .string(try cursor.readString(""))
        case .bytes: return .bytes(try cursor.readBytes(""))
        case .decimal(let scale, let fixedSize):
            let unscaled: [UInt8]
            if let size = fixedSize { unscaled = Array(try cursor.readRaw(size, "")) } else { unscaled = try cursor.readBytes("") }
            return .decimal(DecimalValue(unscaled: unscaled, scale: scale))
        case .fixed(let size): return .bytes(Array(try cursor.readRaw(size, "")))
        case .enumeration(let symbols):
            let index = try cursor.readLong("")
            guard index >= 0, index < symbols.count else { throw cursor.error("", "enum index \(index) of \(symbols.count) symbols") }
            return .string(symbols[Int(index)])
        case .array(let items):
            var values: [Value] = []
            try AvroNode.readBlocks(&cursor) { (cursor: inout AvroCursor) throws(CodecError) in
                do throws(CodecError) { values.append(try items.decode(&cursor)) } catch { throw error.under("[\(values.count)]") }
            }
            return .array(values)
        case .map(let valueNode):
            var entries: [MapEntry] = []
            try AvroNode.readBlocks(&cursor) { (cursor: inout AvroCursor) throws(CodecError) in
                let key = try cursor.readString("")
                do throws(CodecError) { entries.append(MapEntry(.string(key), try valueNode.decode(&cursor))) } catch { throw error.under(key) }
            }
            return .map(entries)
        case .record(let fields):
            var values: [NamedValue] = []
            values.reserveCapacity(fields.count)
            for field in fields {
                do { values.append(NamedValue(field.name, try field.node.decode(&cursor))) } catch { throw error.under(field.name) }
            }
            return .struct(values)
        case .optional(let nullIndex, let node):
            let index = try cursor.readLong("")
            if index == nullIndex { return .null }
            guard index == (nullIndex == 0 ? 1 : 0) else { throw cursor.error("", "union branch \(index) of \(nullIndex < 0 ? 1 : 2)") }
            return try node.decode(&cursor)
        case .union(let branches, let names):
            let index = try cursor.readLong("")
            guard index >= 0, index < branches.count else { throw cursor.error("", "union branch \(index) of \(branches.count)") }
            guard let chosen = names[Int(index)] else { return .null }
            let value = try branches[Int(index)].decode(&cursor)
            return .struct(names.compactMap { $0 }.map { NamedValue($0, $0 == chosen ? value : .null) })
        }
    }

    /// Avro's blocked arrays and maps: counts until a zero; a negative count
    /// is followed by the block's size in bytes.
    static func readBlocks(_ cursor: inout AvroCursor, item: (inout AvroCursor) throws(CodecError) -> Void) throws(CodecError) {
        while true {
            var count = try cursor.readLong("")
            if count == 0 { return }
            if count < 0 {
                guard count != .min else { throw cursor.error("", "an invalid block count") }
                count = -count
                _ = try cursor.readLong("")
            }
            // Items take at least one byte except nulls; bound the loop by what is left anyway.
            guard count <= Int64(cursor.bytes.count - cursor.index) || count <= 1 << 20 else {
                throw cursor.error("", "truncated Avro data (block of \(count))")
            }
            for _ in 0..<count { try item(&cursor) }
        }
    }
}

extension CodecError {
    /// This error, located under `component` (a field name or `[index]`).
    func under(_ component: String) -> CodecError {
        let joined = path.isEmpty ? component : (path.hasPrefix("[") ? component + path : "\(component).\(path)")
        return CodecError(path: joined, reason: reason)
    }
}
