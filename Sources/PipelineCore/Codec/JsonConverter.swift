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
    /// Every message of a topic repeats the same schema, and parsing it was
    /// most of a sink's decoding work: schemas are decoded once per distinct
    /// text. The cache is shared by all converters (text → schema is a pure
    /// function), so a converter stays free to create per record.
    private static let schemaCache = SchemaCache()

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

extension JsonConverter {
    /// The fast path for envelopes laid out as Connect writes them
    /// (`{"schema":{…},"payload":…}`, compact): the schema comes from the
    /// cache and only the payload is parsed. Anything unusual, including any
    /// error, returns nil so the full decoder runs and reports it.
    func decodeCompactEnvelope(_ bytes: [UInt8]) -> SchemaAndValue?? {
        guard let parts = EnvelopeSplitter.split(bytes), let schema = JsonConverter.schemaCache.schema(for: bytes[parts.schema]),
            let payload = try? JSON.parse(bytes[parts.payload])
        else { return nil }
        if case .null = payload, schema.optional || schema.defaultValue == nil { return .some(nil) }
        guard let value = try? ConnectJSON.value(from: payload, schema: schema, path: "payload") else { return nil }
        return .some(SchemaAndValue(schema: schema, value: value))
    }
}

/// Decoded schemas by their exact JSON text.
final class SchemaCache: Sendable {
    private let entries = Locked<[[UInt8]: Schema]>([:])
    /// Distinct schemas kept; a topic has one or a few, so this only bounds pathological input.
    static let capacity = 64

    /// The schema for `text`, or nil when it is not a valid Connect schema.
    func schema(for text: ArraySlice<UInt8>) -> Schema? {
        let key = Array(text)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        guard let json = try? JSON.parse(key), let schema = try? ConnectJSON.schema(from: json, path: "schema") else { return nil }
        entries.withLock { entries in
            if entries.count >= SchemaCache.capacity { entries.removeAll() }
            entries[key] = schema
        }
        return schema
    }
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
