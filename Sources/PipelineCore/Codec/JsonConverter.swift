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
