/// Writes records of one registered Avro record schema field by field
/// (``RecordWriter``): the wire-format header, then each field's Avro
/// binary, with no ``Value`` in between.
public struct AvroRecordWriter: RecordWriter, Sendable {
    private struct FieldPlan: Sendable {
        let name: String
        let node: AvroNode
        /// The union branch of null and of the value, for an optional field.
        let branches: (null: Int64, value: Int64)?
    }

    private let header: [UInt8]
    private let fields: [FieldPlan]
    private var out: [UInt8] = []
    private var field = 0
    /// Capacity for the next record: the last one's size and an eighth (see ``EnvelopeWriter``).
    private var nextCapacity = 64

    /// A writer for `encoder`'s schema, which must be a record whose fields are
    /// `schema`'s fields, in order (as ``AvroData`` makes it from `schema`).
    public init(_ encoder: AvroEncoder, schema: Schema) throws(CodecError) {
        guard case .record(let nodes) = encoder.codec.root else {
            throw CodecError(path: "", reason: "schema id \(encoder.id) is not an Avro record")
        }
        guard nodes.map(\.name) == schema.fields.map(\.name) else {
            throw CodecError(
                path: "", reason: "schema id \(encoder.id) has the fields \(nodes.map(\.name)), not the columns \(schema.fields.map(\.name)) in that order")
        }
        header = ConfluentWireFormat.header(id: encoder.id)
        fields = nodes.map { node in
            if case .optional(let nullIndex, let inner) = node.node, nullIndex >= 0 {
                return FieldPlan(name: node.name, node: inner, branches: (Int64(nullIndex), Int64(1 - nullIndex)))
            }
            return FieldPlan(name: node.name, node: node.node, branches: nil)
        }
    }

    /// Starts the next field and returns its type.
    private mutating func next() -> AvroNode {
        if field == 0 {
            out.reserveCapacity(nextCapacity)
            out += header
        }
        let plan = fields[field]
        field += 1
        if let branches = plan.branches { AvroBinary.writeLong(branches.value, to: &out) }
        return plan.node
    }

    private func mismatch(_ node: AvroNode, _ what: String) -> CodecError {
        CodecError(path: fields[field - 1].name, reason: "\(what) does not fit Avro \(node.name)")
    }

    public mutating func writeNull() throws(CodecError) {
        guard let branches = fields[field].branches else {
            throw CodecError(path: fields[field].name, reason: "null value for a required \(fields[field].node.name) field")
        }
        if field == 0 {
            out.reserveCapacity(nextCapacity)
            out += header
        }
        field += 1
        AvroBinary.writeLong(branches.null, to: &out)
    }

    public mutating func write(_ value: Int64) throws(CodecError) {
        let node = next()
        switch node {
        case .int(let min, let max):
            guard value >= min, value <= max else { throw CodecError(path: fields[field - 1].name, reason: "\(value) is out of range [\(min), \(max)]") }
            AvroBinary.writeLong(value, to: &out)
        case .date, .time:
            guard Int32(exactly: value) != nil else { throw mismatch(node, "\(value)") }
            AvroBinary.writeLong(value, to: &out)
        case .long, .timestamp: AvroBinary.writeLong(value, to: &out)
        case .float: AvroBinary.writeFloat(Float(value), to: &out)
        case .double: AvroBinary.writeDouble(Double(value), to: &out)
        default: throw mismatch(node, "an integer")
        }
    }

    public mutating func write(_ value: Double) throws(CodecError) {
        let node = next()
        switch node {
        case .float: AvroBinary.writeFloat(Float(value), to: &out)
        case .double: AvroBinary.writeDouble(value, to: &out)
        default: throw mismatch(node, "a floating-point number")
        }
    }

    public mutating func write(_ value: Bool) throws(CodecError) {
        let node = next()
        guard case .boolean = node else { throw mismatch(node, "a boolean") }
        out.append(value ? 1 : 0)
    }

    public mutating func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(CodecError) {
        let node = next()
        guard case .string = node else { throw mismatch(node, "a string") }
        AvroBinary.writeBytes(bytes, to: &out)
    }

    public mutating func writeBytes(_ bytes: [UInt8]) throws(CodecError) {
        let node = next()
        switch node {
        case .bytes, .decimal(_, nil): AvroBinary.writeBytes(bytes, to: &out)
        case .decimal(_, let size?), .fixed(let size):
            guard bytes.count <= size else { throw mismatch(node, "\(bytes.count) bytes") }
            if case .decimal = node {
                out.append(contentsOf: repeatElement((bytes.first ?? 0) & 0x80 != 0 ? 0xff : 0, count: size - bytes.count))
            } else if bytes.count != size {
                throw mismatch(node, "\(bytes.count) bytes")
            }
            out.append(contentsOf: bytes)
        default: throw mismatch(node, "bytes")
        }
    }

    public mutating func finish() -> [UInt8] {
        precondition(field == fields.count, "AvroRecordWriter: \(field) of \(fields.count) fields written")
        if field == 0 { out += header }
        let bytes = out
        nextCapacity = bytes.count + bytes.count / 8
        out = []
        field = 0
        return bytes
    }
}
