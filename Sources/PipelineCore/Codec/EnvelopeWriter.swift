/// Writes records of one struct schema straight into the bytes Connect's
/// JsonConverter writes for them, field by field, with no ``Value`` or
/// ``JSON`` tree in between.
///
/// Output is byte for byte ``JsonConverter/encode(_:)`` of the same struct:
/// the schema part and every member name are serialized once, here, and each
/// value is written by the same routines the converter uses.
///
/// Call one `write…` per field, in the schema's field order, then
/// ``finish()``; the writer is then ready for the next record.
public struct EnvelopeWriter: Sendable {
    public let schema: InternedSchema
    /// `{"schema":…,"payload":{` (or `{` without schemas).
    private let head: [UInt8]
    /// Every field's `"name":` (with a leading comma after the first), one
    /// after the other: one buffer, so starting a field retains nothing.
    private let names: [UInt8]
    /// Where each field's name ends in `names` (it starts where the one before ends).
    private let nameEnds: [Int]
    private let tail: [UInt8]
    /// Per field: whether its bytes are a Decimal written as a JSON number.
    private let numericDecimals: [Bool]
    private var out: [UInt8] = []
    private var field = 0
    /// Capacity for the next record: the last one's size and an eighth, so
    /// that a record a little longer than the one before does not double its
    /// buffer (a reallocation and a copy of everything written so far).
    private var nextCapacity = 256

    /// A writer for `schema`, which must be a struct. `prefix` comes before
    /// each record (a registry wire-format header, for JsonSchemaConverter),
    /// and with `decimalsAsNumbers` a Decimal is a JSON number, not base64.
    public init(_ schema: InternedSchema, schemasEnabled: Bool, prefix: [UInt8] = [], decimalsAsNumbers: Bool = false) {
        precondition(schema.schema.type == .struct, "EnvelopeWriter writes structs")
        self.schema = schema
        head = prefix + (schemasEnabled ? Array(#"{"schema":"#.utf8) + schema.json + Array(#","payload":{"#.utf8) : [UInt8(ascii: "{")])
        numericDecimals = schema.schema.fields.map { decimalsAsNumbers && $0.schema.name == LogicalType.decimalName }
        tail = schemasEnabled ? Array("}}".utf8) : [UInt8(ascii: "}")]
        var names: [UInt8] = [], nameEnds: [Int] = []
        for (i, field) in schema.schema.fields.enumerated() {
            if i > 0 { names.append(UInt8(ascii: ",")) }
            JSON.writeString(field.name, to: &names)
            names.append(UInt8(ascii: ":"))
            nameEnds.append(names.count)
        }
        self.names = names
        self.nameEnds = nameEnds
    }

    /// Starts the next field.
    private mutating func next() {
        if field == 0 {
            out.reserveCapacity(nextCapacity)
            out += head
        }
        let start = field == 0 ? 0 : nameEnds[field - 1], end = nameEnds[field]
        names.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end])) }
        field += 1
    }

    /// A null; an error for a required field without a default, as the converter.
    public mutating func writeNull() throws(CodecError) {
        let fieldSchema = schema.schema.fields[field].schema
        if !fieldSchema.optional, fieldSchema.defaultValue == nil {
            throw CodecError(
                path: "payload.\(schema.schema.fields[field].name)",
                reason: "null value for a required \(fieldSchema.type.rawValue) field")
        }
        next()
        out += "null".utf8
    }

    /// An integer (also Timestamp, Date and Time, which are integers in JSON).
    public mutating func write(_ value: Int64) {
        next()
        JSON.writeInteger(value, to: &out)
    }

    public mutating func write(_ value: Double) {
        next()
        JSON.writeDouble(value, to: &out)
    }

    public mutating func write(_ value: Bool) {
        next()
        out += (value ? "true" : "false").utf8
    }

    /// A string from text in UTF-8 (invalid sequences become U+FFFD, as `String(decoding:)`).
    public mutating func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        next()
        JSON.writeString(utf8: bytes, to: &out)
    }

    /// Bytes or a Decimal's unscaled bytes, as base64 text (a Decimal as a
    /// number when the writer was made with `decimalsAsNumbers`).
    public mutating func writeBase64(_ bytes: [UInt8]) {
        if numericDecimals[field] {
            let scale = schema.schema.fields[field].schema.decimalScale ?? 0
            next()
            out += DecimalValue(unscaled: bytes, scale: scale).description.utf8
            return
        }
        next()
        out.append(UInt8(ascii: "\""))
        Base64.encode(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// A value already encoded as the converter writes it: a nested struct's
    /// payload from a writer made with `schemasEnabled: false`, or an array.
    /// Its bytes are copied as they are, not checked.
    public mutating func writeJSON(_ json: [UInt8]) {
        next()
        out += json
    }

    /// The record's bytes; every field must have been written.
    public mutating func finish() -> [UInt8] {
        precondition(field == nameEnds.count, "EnvelopeWriter: \(field) of \(nameEnds.count) fields written")
        if field == 0 { out += head }
        out += tail
        let bytes = out
        nextCapacity = bytes.count + bytes.count / 8
        out = []
        field = 0
        return bytes
    }

    /// Drops a partly written record (after a conversion error).
    public mutating func reset() {
        out = []
        field = 0
    }
}
