/// Confluent's `io.confluent.connect.json.JsonSchemaConverter`: a JSON
/// payload in Confluent's wire format whose JSON Schema is in the registry.
/// Sinks fetch a batch's schemas first (``prefetch(_:)``); writers get the
/// wire-format header of a schema once (``header(for:topic:)``).
public final class JsonSchemaConverter: Sendable {
    public let settings: RegistryConverterSettings
    public let client: SchemaRegistryClient
    /// Whether this converts keys (subjects `<topic>-key`).
    public let isKey: Bool
    private let schemas: RegistryReadCache<Schema>
    private let headers = RegistryWriteCache<[UInt8]>()

    public init(settings: RegistryConverterSettings, isKey: Bool, client: SchemaRegistryClient? = nil) {
        self.settings = settings
        self.isKey = isKey
        let client = client ?? SchemaRegistryClient(urls: settings.urls, userInfo: settings.userInfo)
        self.client = client
        self.schemas = RegistryReadCache(client: client) { registered, id throws(CodecError) in
            guard registered.schemaType == "JSON" else {
                throw CodecError(path: "", reason: "schema id \(id) is \(registered.schemaType), not JSON")
            }
            do {
                return try JsonSchemaData.connectSchema(from: try JSON.parse(registered.schema))
            } catch let error as CodecError {
                throw CodecError(path: error.path, reason: "schema id \(id): \(error.reason)")
            } catch {
                throw CodecError(path: "", reason: "schema id \(id): \(error)")
            }
        }
    }

    /// Fetches the schemas of `payloads` not yet known (see ``AvroConverter/prefetch(_:)``).
    public func prefetch(_ payloads: some Sequence<[UInt8]?>) async throws(SchemaRegistryError) {
        try await schemas.prefetch(payloads)
    }

    /// Decodes a key or value whose schema was fetched; nil bytes (a tombstone) are nil.
    public func decode(_ bytes: [UInt8]?) throws(CodecError) -> SchemaAndValue? {
        guard let bytes else { return nil }
        let schema = try schemas.compiled(for: bytes)
        let json: JSON
        do { json = try JSON.parse(bytes[ConfluentWireFormat.headerSize...]) } catch {
            throw CodecError(path: "", reason: error.description)
        }
        if case .null = json, schema.optional { return nil }
        return SchemaAndValue(schema: schema, value: try ConnectJSON.value(from: json, schema: schema, path: ""))
    }

    /// The wire-format header for records of `schema` on `topic`: its JSON
    /// Schema registered (or looked up, or the subject's latest with
    /// `use.latest.version`) once. The payload is the record as JSON, Decimals as numbers.
    public func header(for schema: Schema, topic: String) async throws -> [UInt8] {
        try await headers.entry(topic: topic, schema: schema) {
            let recordName = schema.type == .struct ? schema.name : nil
            let subject = try settings.subjectNameStrategy.subject(topic: topic, isKey: isKey, recordName: recordName)
            let registered = RegisteredSchema(schemaType: "JSON", schema: try JsonSchemaData.jsonSchema(for: schema).text)
            return ConfluentWireFormat.header(id: try await settings.writerID(for: registered, subject: subject, client: client).id)
        }
    }
}
