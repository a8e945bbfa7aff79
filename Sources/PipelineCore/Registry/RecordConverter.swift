/// A sink's key or value converter as configured: Connect's JsonConverter
/// (with its fast paths, untouched), or Confluent's AvroConverter or JsonSchemaConverter.
public enum RecordConverter: Sendable {
    case json(JsonConverter)
    case avro(AvroConverter)
    case jsonSchema(JsonSchemaConverter)

    /// The registry converter `registry` names, else the JsonConverter.
    public init(isKey: Bool, schemasEnabled: Bool, registry: RegistryConverterSettings?) {
        switch registry?.format {
        case .avro?: self = .avro(AvroConverter(settings: registry!, isKey: isKey))
        case .jsonSchema?: self = .jsonSchema(JsonSchemaConverter(settings: registry!, isKey: isKey))
        case nil: self = .json(JsonConverter(schemasEnabled: schemasEnabled))
        }
    }

    /// The JsonConverter, for the JSON fast paths.
    public var json: JsonConverter? {
        if case .json(let converter) = self { return converter }
        return nil
    }

    /// Fetches what decoding `payloads` needs (registry schemas); nothing for JSON.
    public func prefetch(_ payloads: some Sequence<[UInt8]?>) async throws {
        switch self {
        case .json: break
        case .avro(let converter): try await converter.prefetch(payloads)
        case .jsonSchema(let converter): try await converter.prefetch(payloads)
        }
    }

    /// Decodes a key or value (after ``prefetch(_:)``); nil bytes are a tombstone.
    public func decode(_ bytes: [UInt8]?) throws(CodecError) -> SchemaAndValue? {
        switch self {
        case .json(let converter): return try converter.decode(bytes)
        case .avro(let converter): return try converter.decode(bytes)
        case .jsonSchema(let converter): return try converter.decode(bytes)
        }
    }
}
