/// Kafka Connect's `org.apache.kafka.connect.json.JsonConverter`.
///
/// With `schemasEnabled` every message is the envelope
/// `{"schema":{...},"payload":...}`; without, the payload alone. Output
/// matches what Connect writes (member order, type names, Decimal as base64
/// bytes, Timestamp as epoch milliseconds), so Connect sinks can read our
/// topics and our sinks can read topics Connect wrote.
public struct JsonConverter: Sendable {
    /// `schemas.enable`.
    public var schemasEnabled: Bool

    public init(schemasEnabled: Bool = true) {
        self.schemasEnabled = schemasEnabled
    }

    /// Encodes a key or value; nil (a tombstone) stays nil.
    public func encode(_ data: SchemaAndValue?) throws(CodecError) -> [UInt8]? {
        guard let data else { return nil }
        let payload = try ConnectJSON.payload(data.value, schema: data.schema, path: "payload")
        guard schemasEnabled else { return payload.serialized() }
        let schema: JSON = data.schema.map(ConnectJSON.schemaJSON) ?? .null
        return JSON.object([("schema", schema), ("payload", payload)]).serialized()
    }

    /// Decodes a key or value; nil bytes (a tombstone) decode to nil, and so
    /// does an envelope whose payload is null, as in Connect.
    public func decode(_ bytes: [UInt8]?) throws(CodecError) -> SchemaAndValue? {
        guard let bytes else { return nil }
        if schemasEnabled, let fast = decodeCompactEnvelope(bytes) { return fast }
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw CodecError(path: "", reason: error.description)
        }
        guard schemasEnabled else {
            return SchemaAndValue(schema: nil, value: ConnectJSON.schemaless(json))
        }
        guard case .object(let members) = json, members.count == 2, let schemaJSON = json["schema"], let payload = json["payload"] else {
            throw CodecError(
                path: "",
                reason: "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields; set schemas.enable=false for plain JSON")
        }
        if case .null = schemaJSON {
            if case .null = payload { return nil }
            return SchemaAndValue(schema: nil, value: ConnectJSON.schemaless(payload))
        }
        let schema = try ConnectJSON.schema(from: schemaJSON, path: "schema")
        if case .null = payload, schema.optional || schema.defaultValue == nil { return nil }
        return SchemaAndValue(schema: schema, value: try ConnectJSON.value(from: payload, schema: schema, path: "payload"))
    }

    /// The payload alone as compact JSON bytes, as Confluent's S3 JsonFormat writes each record.
    public func payloadBytes(_ data: SchemaAndValue) throws(CodecError) -> [UInt8] {
        try ConnectJSON.payload(data.value, schema: data.schema, path: "payload").serialized()
    }
}

/// Where a message's payload is, found without parsing the whole message.
public struct PayloadLocation: Sendable {
    /// The payload's schema; nil without schemas.
    public var schema: InternedSchema?
    /// The payload's bytes within the message.
    public var range: Range<Int>
}

extension JsonConverter {
    /// The payload of `bytes` and its schema: for an envelope laid out as
    /// Connect writes it (`{"schema":{…},"payload":…}`, compact) the schema is
    /// interned once per distinct text and only located here, not parsed;
    /// without schemas the payload is the whole message. Nil for any other
    /// layout or an invalid schema (``decode(_:)`` handles and explains those).
    /// The payload itself is not checked.
    public func locatePayload(_ bytes: [UInt8]) -> PayloadLocation? {
        guard schemasEnabled else { return PayloadLocation(schema: nil, range: 0..<bytes.count) }
        if let known = SchemaInterner.shared.knownEnvelope(bytes) { return known }
        guard let parts = EnvelopeSplitter.split(bytes), let schema = SchemaInterner.shared.intern(json: bytes[parts.schema]) else { return nil }
        return PayloadLocation(schema: schema, range: parts.payload)
    }

    /// Reads the payload of `bytes` straight into `visitor`, field by field,
    /// with no JSON tree or ``Value``; returns where it was, or nil when this
    /// fast path does not take the message (an unusual layout or schema, a
    /// null payload, any error: `visitor` may then have seen some fields).
    /// On nil, run ``decode(_:)``, which accepts the same messages and names
    /// what is wrong; no error text is built here.
    public func read<V: PayloadVisitor>(_ bytes: [UInt8], into visitor: inout V) -> PayloadLocation? {
        guard let location = locatePayload(bytes), let reader = location.schema?.reader else { return nil }
        let read = bytes.withUnsafeBufferPointer { all in
            reader.read(UnsafeBufferPointer(rebasing: all[location.range]), into: &visitor)
        }
        return read ? location : nil
    }

    /// The fast path of ``decode(_:)``: a compact envelope read by its
    /// schema's ``PayloadReader``. Nil when that path does not take it.
    func decodeCompactEnvelope(_ bytes: [UInt8]) -> SchemaAndValue? {
        var builder = ValueBuilder()
        guard let location = read(bytes, into: &builder), let schema = location.schema else { return nil }
        guard schema.schema.type == .struct else { return SchemaAndValue(schema: schema.schema, value: builder.values.first ?? .null) }
        let fields = schema.schema.fields
        var named: [NamedValue] = []
        named.reserveCapacity(fields.count)
        for (field, value) in zip(fields, builder.values) { named.append(NamedValue(field.name, value)) }
        return SchemaAndValue(schema: schema.schema, value: .struct(named))
    }
}

/// Collects a payload's fields as ``Value``s, in field order.
struct ValueBuilder: PayloadVisitor {
    var values: [Value] = []

    mutating func null(_ field: Int) { values.append(.null) }
    mutating func int(_ field: Int, _ value: Int64) { values.append(.int(value)) }
    mutating func double(_ field: Int, _ value: Double) { values.append(.double(value)) }
    mutating func bool(_ field: Int, _ value: Bool) { values.append(.bool(value)) }
    mutating func string(_ field: Int, _ value: String) { values.append(.string(value)) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) { values.append(.bytes(value)) }
    mutating func timestamp(_ field: Int, _ milliseconds: Int64) { values.append(.timestamp(milliseconds)) }
    mutating func date(_ field: Int, _ days: Int32) { values.append(.date(days)) }
    mutating func time(_ field: Int, _ milliseconds: Int32) { values.append(.time(milliseconds)) }
    mutating func decimal(_ field: Int, _ value: DecimalValue) { values.append(.decimal(value)) }
}

/// Finds the schema and payload of a compact Connect envelope without parsing it.
enum EnvelopeSplitter {
    static let head = Array(#"{"schema":{"#.utf8)
    static let middle = Array(#","payload":"#.utf8)

    /// Byte ranges of the schema object and the payload value, or nil when
    /// the document is not laid out exactly as `{"schema":{…},"payload":…}`.
    static func split(_ bytes: [UInt8]) -> (schema: Range<Int>, payload: Range<Int>)? {
        guard bytes.count > head.count + middle.count + 1, bytes.starts(with: head), bytes.last == UInt8(ascii: "}") else { return nil }
        let schemaStart = head.count - 1
        var index = schemaStart
        var depth = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { break }
            }
            index += 1
        }
        guard index < bytes.count, depth == 0 else { return nil }
        let afterSchema = index + 1
        guard bytes[afterSchema...].starts(with: middle) else { return nil }
        let payloadStart = afterSchema + middle.count
        guard payloadStart < bytes.count - 1 else { return nil }
        return (schemaStart..<afterSchema, payloadStart..<(bytes.count - 1))
    }
}
