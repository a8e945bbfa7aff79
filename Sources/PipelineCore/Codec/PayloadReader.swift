/// Receives the fields of one payload from a ``PayloadReader``, in the
/// order they appear; `field` indexes the schema's fields (0 for a
/// primitive schema). Each field arrives exactly once.
public protocol PayloadVisitor {
    mutating func null(_ field: Int)
    /// int8 to int64, range-checked for the field's type.
    mutating func int(_ field: Int, _ value: Int64)
    /// float or double.
    mutating func double(_ field: Int, _ value: Double)
    mutating func bool(_ field: Int, _ value: Bool)
    mutating func string(_ field: Int, _ value: String)
    mutating func bytes(_ field: Int, _ value: [UInt8])
    /// Milliseconds since the epoch.
    mutating func timestamp(_ field: Int, _ milliseconds: Int64)
    /// Days since the epoch.
    mutating func date(_ field: Int, _ days: Int32)
    /// Milliseconds since midnight.
    mutating func time(_ field: Int, _ milliseconds: Int32)
    mutating func decimal(_ field: Int, _ value: DecimalValue)
    /// Whether ``string(_:_:)`` wants the strings: a visitor that only
    /// validates (``PayloadValidation``) is spared a `String`, and often an
    /// allocation, per string field; the bytes are checked all the same.
    static var keepsStrings: Bool { get }
}

extension PayloadVisitor {
    public static var keepsStrings: Bool { true }
}

/// Reads a payload of one schema straight from its JSON bytes into a
/// ``PayloadVisitor``: no ``JSON`` tree, no struct ``Value``.
///
/// It covers what sinks see almost always: a struct of primitive and logical
/// fields (or one primitive), written in schema order as Connect writes it.
/// Anything else, and any error, makes ``read(_:into:)`` return false
/// without building a message, so the caller can run the full decoder,
/// which accepts the same documents and explains the errors.
struct PayloadReader: Sendable {
    enum Kind: Sendable {
        case int(min: Int64, max: Int64), float, boolean, string, bytes, timestamp, date, time, decimal(scale: Int)
    }

    struct FieldPlan: Sendable {
        /// The member name as it appears between the quotes (JSON-escaped).
        let name: [UInt8]
        let kind: Kind
        let optional: Bool
    }

    /// Struct fields, or the one primitive's plan.
    let fields: [FieldPlan]
    let isStruct: Bool

    /// A reader for `schema`, or nil when it has containers or defaults (the full decoder handles those).
    init?(_ schema: Schema) {
        if schema.type == .struct {
            guard schema.defaultValue == nil else { return nil }
            var plans: [FieldPlan] = []
            for field in schema.fields {
                guard let plan = PayloadReader.plan(field.schema, name: field.name) else { return nil }
                plans.append(plan)
            }
            // Duplicate names: the full decoder's first-match rule applies.
            guard Set(schema.fields.map(\.name)).count == plans.count else { return nil }
            fields = plans
            isStruct = true
        } else {
            guard let plan = PayloadReader.plan(schema, name: "") else { return nil }
            fields = [plan]
            isStruct = false
        }
    }

    static func plan(_ schema: Schema, name: String) -> FieldPlan? {
        guard schema.defaultValue == nil else { return nil }
        var quoted: [UInt8] = []
        JSON.writeString(name, to: &quoted)
        let nameBytes = Array(quoted.dropFirst().dropLast())
        let kind: Kind
        switch schema.name {
        case LogicalType.timestampName: kind = .timestamp
        case LogicalType.dateName: kind = .date
        case LogicalType.timeName: kind = .time
        case LogicalType.decimalName: kind = .decimal(scale: schema.decimalScale ?? 0)
        default:
            switch schema.type {
            case .int8: kind = .int(min: Int64(Int8.min), max: Int64(Int8.max))
            case .int16: kind = .int(min: Int64(Int16.min), max: Int64(Int16.max))
            case .int32: kind = .int(min: Int64(Int32.min), max: Int64(Int32.max))
            case .int64: kind = .int(min: .min, max: .max)
            case .float32, .float64: kind = .float
            case .boolean: kind = .boolean
            case .string: kind = .string
            case .bytes: kind = .bytes
            case .array, .map, .struct: return nil
            }
        }
        return FieldPlan(name: nameBytes, kind: kind, optional: schema.optional)
    }

    /// Visits every field of `bytes`; false (having visited some fields,
    /// perhaps) when the payload is not one this reader takes or is invalid.
    func read<V: PayloadVisitor>(_ bytes: UnsafeBufferPointer<UInt8>, into visitor: inout V) -> Bool {
        var cursor = Cursor(bytes: bytes)
        cursor.skipSpace()
        if isStruct {
            guard cursor.take(UInt8(ascii: "{")) else { return false }
            for (index, field) in fields.enumerated() {
                cursor.skipSpace()
                if index > 0 {
                    guard cursor.take(UInt8(ascii: ",")) else { return false }
                    cursor.skipSpace()
                }
                guard cursor.takeName(field.name) else { return false }
                cursor.skipSpace()
                guard cursor.take(UInt8(ascii: ":")) else { return false }
                cursor.skipSpace()
                guard cursor.value(field, index, into: &visitor) else { return false }
            }
            cursor.skipSpace()
            guard cursor.take(UInt8(ascii: "}")) else { return false }
        } else {
            // A null payload is a tombstone to the converter, not a null field: its business.
            guard !cursor.atEnd, bytes[cursor.i] != UInt8(ascii: "n"), cursor.value(fields[0], 0, into: &visitor) else { return false }
        }
        cursor.skipSpace()
        return cursor.atEnd
    }

    /// A position in the payload.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        var atEnd: Bool { i == bytes.count }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// `"name"` exactly as planned.
        mutating func takeName(_ name: [UInt8]) -> Bool {
            let end = i + name.count + 2
            guard end <= bytes.count, bytes[i] == UInt8(ascii: "\""), bytes[end - 1] == UInt8(ascii: "\"") else { return false }
            for (k, byte) in name.enumerated() where bytes[i + 1 + k] != byte { return false }
            i = end
            return true
        }

        mutating func takeWord(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            let start = word.utf8Start
            for k in 0..<count where bytes[i + k] != start[k] { return false }
            i += count
            return true
        }

        mutating func value<V: PayloadVisitor>(_ field: FieldPlan, _ index: Int, into visitor: inout V) -> Bool {
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: "n") {
                guard field.optional, takeWord("null") else { return false }
                visitor.null(index)
                return true
            }
            switch field.kind {
            case .int(let min, let max):
                guard let v = integer(), v >= min, v <= max else { return false }
                visitor.int(index, v)
            case .timestamp:
                guard let v = integer() else { return false }
                visitor.timestamp(index, v)
            case .date:
                guard let v = integer(), let days = Int32(exactly: v) else { return false }
                visitor.date(index, days)
            case .time:
                guard let v = integer(), (0...86_400_000).contains(v) else { return false }
                visitor.time(index, Int32(v))
            case .float:
                guard let v = double() else { return false }
                visitor.double(index, v)
            case .boolean:
                if takeWord("true") {
                    visitor.bool(index, true)
                } else if takeWord("false") {
                    visitor.bool(index, false)
                } else {
                    return false
                }
            case .string:
                if V.keepsStrings {
                    guard let s = string() else { return false }
                    visitor.string(index, s)
                } else {
                    guard skipString() else { return false }
                }
            case .bytes:
                guard let s = string(), let b = Base64.decode(s) else { return false }
                visitor.bytes(index, b)
            case .decimal(let scale):
                guard let s = string(), let b = Base64.decode(s) else { return false }
                visitor.decimal(index, DecimalValue(unscaled: b, scale: scale))
            }
            return true
        }

        /// A plain integer literal (anything else goes to the full decoder).
        mutating func integer() -> Int64? {
            var k = i
            let negative = k < bytes.count && bytes[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            let digitsStart = k
            var value: Int64 = 0
            while k < bytes.count, bytes[k] &- UInt8(ascii: "0") < 10 {
                let digit = Int64(bytes[k] &- UInt8(ascii: "0"))
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !o1, !o2 else { return nil }
                value = sum
                k += 1
            }
            guard k > digitsStart else { return nil }
            if k < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[k]) { return nil }
            i = k
            return value
        }

        /// A number, parsed as the full decoder parses it.
        mutating func double() -> Double? {
            let start = i
            var k = i
            var isInteger = true
            if k < bytes.count, bytes[k] == UInt8(ascii: "-") { k += 1 }
            while k < bytes.count {
                let c = bytes[k]
                if c &- UInt8(ascii: "0") < 10 { k += 1; continue }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    isInteger = false
                    k += 1
                    continue
                }
                break
            }
            guard k > start else { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<k]), as: UTF8.self)
            let value: Double?
            if isInteger, let v = Int64(text) { value = Double(v) } else { value = Double(text) }
            guard let value else { return nil }
            i = k
            return value
        }

        /// A string without escapes, valid UTF-8; escapes go to the full decoder.
        mutating func string() -> String? {
            guard let (raw, ascii) = rawString() else { return nil }
            let s = String(decoding: raw, as: UTF8.self)
            // Decoding replaces invalid UTF-8, so the bytes differ exactly when it was invalid.
            guard ascii || s.utf8.elementsEqual(raw) else { return nil }
            return s
        }

        /// Passes over what ``string()`` would read, without building it:
        /// false exactly when ``string()`` would return nil.
        mutating func skipString() -> Bool {
            guard let (raw, ascii) = rawString() else { return false }
            return ascii || Self.isValidUTF8(raw)
        }

        /// The bytes between the quotes of a string without escapes or
        /// control characters, and whether they are all ASCII.
        private mutating func rawString() -> (UnsafeBufferPointer<UInt8>, ascii: Bool)? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            var ascii = true
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                    i += 1
                    return (raw, ascii)
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                if b >= 0x80 { ascii = false }
                i += 1
            }
            return nil
        }

        /// Whether `raw` is well-formed UTF-8, as `String(decoding:)` would find it, without building a String.
        static func isValidUTF8(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
            var parser = Unicode.UTF8.ForwardParser()
            var bytes = raw.makeIterator()
            while true {
                switch parser.parseScalar(from: &bytes) {
                case .valid: continue
                case .emptyInput: return true
                case .error: return false
                }
            }
        }
    }
}

/// A visitor that keeps nothing: reading into it only validates a payload.
public struct PayloadValidation: PayloadVisitor {
    public init() {}
    public static var keepsStrings: Bool { false }
    public mutating func null(_ field: Int) {}
    public mutating func int(_ field: Int, _ value: Int64) {}
    public mutating func double(_ field: Int, _ value: Double) {}
    public mutating func bool(_ field: Int, _ value: Bool) {}
    public mutating func string(_ field: Int, _ value: String) {}
    public mutating func bytes(_ field: Int, _ value: [UInt8]) {}
    public mutating func timestamp(_ field: Int, _ milliseconds: Int64) {}
    public mutating func date(_ field: Int, _ days: Int32) {}
    public mutating func time(_ field: Int, _ milliseconds: Int32) {}
    public mutating func decimal(_ field: Int, _ value: DecimalValue) {}
}
