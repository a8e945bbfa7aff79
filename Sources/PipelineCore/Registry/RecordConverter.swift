/// A sink's key or value converter as configured: Connect's JsonConverter
/// (with its fast paths, untouched) or Confluent's AvroConverter.
public enum RecordConverter: Sendable {
    case json(JsonConverter)
    case avro(AvroConverter)

    /// The AvroConverter when `registry` is set, else the JsonConverter.
    public init(isKey: Bool, schemasEnabled: Bool, registry: RegistryConverterSettings?) {
        if let registry {
            self = .avro(AvroConverter(settings: registry, isKey: isKey))
        } else {
            self = .json(JsonConverter(schemasEnabled: schemasEnabled))
        }
    }

    /// The JsonConverter, for the JSON fast paths.
    public var json: JsonConverter? {
        if case .json(let converter) = self { return converter }
        return nil
    }

    /// Fetches what decoding `payloads` needs (registry schemas); nothing for JSON.
    public func prefetch(_ payloads: some Sequence<[UInt8]?>) async throws {
        if case .avro(let converter) = self { try await converter.prefetch(payloads) }
    }

    /// Decodes a key or value (after ``prefetch(_:)``); nil bytes are a tombstone.
    public func decode(_ bytes: [UInt8]?) throws(CodecError) -> SchemaAndValue? {
        switch self {
        case .json(let converter): return try converter.decode(bytes)
        case .avro(let converter): return try converter.decode(bytes)
        }
    }
}
