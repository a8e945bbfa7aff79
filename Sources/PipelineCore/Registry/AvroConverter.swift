/// Confluent's `io.confluent.connect.avro.AvroConverter`: Connect records as
/// Avro binary in Confluent's wire format, with schemas in a Schema Registry.
///
/// Decoding is synchronous once the message's schema is known:
/// ``prefetch(_:)`` (async) fetches the schemas of a batch first. Compiled
/// schemas are cached by id, and for writing by topic and Connect schema.
public final class AvroConverter: Sendable {
    public let settings: RegistryConverterSettings
    public let client: SchemaRegistryClient
    /// Whether this converts keys (subjects `<topic>-key`).
    public let isKey: Bool
    private let decoders: RegistryReadCache<AvroCodec>
    private let encoders = RegistryWriteCache<AvroEncoder>()

    public init(settings: RegistryConverterSettings, isKey: Bool, client: SchemaRegistryClient? = nil) {
        self.settings = settings
        self.isKey = isKey
        let client = client ?? SchemaRegistryClient(urls: settings.urls, userInfo: settings.userInfo)
        self.client = client
        self.decoders = RegistryReadCache(client: client) { registered, id throws(CodecError) in try AvroConverter.compile(registered, id: id) }
    }

    // MARK: - Reading

    /// Fetches and compiles the schemas of `payloads` not yet known. An id
    /// the registry does not have, or a schema that is not valid Avro, is
    /// remembered as that message's error (for ``decode(_:)``); a registry
    /// that cannot be reached throws, so the batch is tried again later.
    public func prefetch(_ payloads: some Sequence<[UInt8]?>) async throws(SchemaRegistryError) {
        try await decoders.prefetch(payloads)
    }

    static func compile(_ registered: RegisteredSchema, id: Int32) throws(CodecError) -> AvroCodec {
        guard registered.schemaType == "AVRO" else {
            throw CodecError(path: "", reason: "schema id \(id) is \(registered.schemaType), not AVRO")
        }
        do {
            return try AvroCodec(avro: try AvroSchema(parsing: registered.schema))
        } catch let error as AvroSchemaError {
            throw CodecError(path: "", reason: "schema id \(id): \(error)")
        } catch let error as CodecError {
            throw CodecError(path: error.path, reason: "schema id \(id): \(error.reason)")
        } catch {
            throw CodecError(path: "", reason: "schema id \(id): \(error)")
        }
    }

    /// Decodes a key or value whose schema ``prefetch(_:)`` fetched; nil bytes (a tombstone) are nil.
    public func decode(_ bytes: [UInt8]?) throws(CodecError) -> SchemaAndValue? {
        guard let bytes else { return nil }
        let codec = try decoders.compiled(for: bytes)
        let value = try bytes.withUnsafeBufferPointer { all throws(CodecError) in
            try codec.decode(UnsafeBufferPointer(rebasing: all[ConfluentWireFormat.headerSize...]))
        }
        return SchemaAndValue(schema: codec.connect, value: value)
    }

    // MARK: - Writing

    /// The encoder for records of `schema` on `topic`: its schema registered
    /// (or looked up, or the subject's latest with `use.latest.version`) once.
    public func encoder(for schema: Schema, topic: String) async throws -> AvroEncoder {
        try await encoders.entry(topic: topic, schema: schema) {
            let own = try AvroData.avroSchema(for: schema)
            let subject = try settings.subjectNameStrategy.subject(topic: topic, isKey: isKey, recordName: AvroConverter.recordName(own))
            let (id, latest) = try await settings.writerID(for: RegisteredSchema(schema: own.text), subject: subject, client: client)
            let codec = try latest.map { (registered) throws(CodecError) in try AvroConverter.compile(registered, id: id) } ?? AvroCodec(avro: own)
            return AvroEncoder(id: id, codec: codec)
        }
    }

    /// Encodes a key or value for `topic`; nil (a tombstone) stays nil.
    public func encode(_ data: SchemaAndValue?, topic: String) async throws -> [UInt8]? {
        guard let data else { return nil }
        guard let schema = data.schema else {
            throw CodecError(path: "", reason: "AvroConverter needs a schema; this \(isKey ? "key" : "value") has none")
        }
        return try await encoder(for: schema, topic: topic).encode(data.value)
    }

    static func recordName(_ schema: AvroSchema) -> String? {
        if case .record(let record) = schema.root.kind { return record.name.fullName }
        return nil
    }
}

/// Writes values of one registered schema: the wire-format header, then Avro binary.
public struct AvroEncoder: Sendable {
    /// The registry's id of the schema.
    public let id: Int32
    public let codec: AvroCodec
    private let header: [UInt8]

    public init(id: Int32, codec: AvroCodec) {
        self.id = id
        self.codec = codec
        self.header = ConfluentWireFormat.header(id: id)
    }

    /// The message bytes of `value`.
    public func encode(_ value: Value) throws(CodecError) -> [UInt8] {
        var out = header
        out.reserveCapacity(64)
        try codec.encode(value, to: &out)
        return out
    }
}
