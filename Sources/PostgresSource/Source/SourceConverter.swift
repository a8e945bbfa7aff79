import PipelineCore

/// The source's key or value converter: Connect's JsonConverter, or
/// Confluent's AvroConverter or JsonSchemaConverter (which register each
/// table's schema once).
enum SourceConverter: Sendable {
    case json(JsonConverter)
    case avro(AvroConverter)
    case jsonSchema(JsonSchemaConverter)

    init(isKey: Bool, schemasEnabled: Bool, registry: RegistryConverterSettings?) {
        switch registry?.format {
        case .avro?: self = .avro(AvroConverter(settings: registry!, isKey: isKey))
        case .jsonSchema?: self = .jsonSchema(JsonSchemaConverter(settings: registry!, isKey: isKey))
        case nil: self = .json(JsonConverter(schemasEnabled: schemasEnabled))
        }
    }

    /// The writer for records of `schema` on `topic`: for Avro, the
    /// registry is asked once per topic and schema (then cached).
    func writer(for schema: InternedSchema?, topic: String) async throws -> RowWriter {
        switch self {
        case .json(let converter): return .envelope(schemasEnabled: converter.schemasEnabled, prefix: [], decimalsAsNumbers: false)
        case .avro(let converter):
            // Without a key schema there is no key to write: any writer will do.
            guard let schema else { return .envelope(schemasEnabled: false, prefix: [], decimalsAsNumbers: false) }
            return .avro(try await converter.encoder(for: schema.schema, topic: topic))
        case .jsonSchema(let converter):
            guard let schema else { return .envelope(schemasEnabled: false, prefix: [], decimalsAsNumbers: false) }
            // Confluent's JsonSchemaConverter: the payload alone, after the header, Decimals as numbers.
            return .envelope(schemasEnabled: false, prefix: try await converter.header(for: schema.schema, topic: topic), decimalsAsNumbers: true)
        }
    }
}

/// How one side (key or value) of a table's records is written.
enum RowWriter: Sendable {
    /// JSON (``EnvelopeWriter``): Connect's envelope or payload, or JsonSchemaConverter's framed payload.
    case envelope(schemasEnabled: Bool, prefix: [UInt8], decimalsAsNumbers: Bool)
    case avro(AvroEncoder)
}

/// The key and value writers of one table's pages.
struct RowWriters: Sendable {
    var key: RowWriter
    var value: RowWriter
}

extension PostgresSource {
    /// The writers for `task`'s records (registry schemas registered first).
    func writers(for task: TableTask) async throws -> RowWriters {
        RowWriters(
            key: try await keyConverter.writer(for: task.keySchema, topic: task.topic),
            value: try await valueConverter.writer(for: task.valueSchema, topic: task.topic))
    }
}
