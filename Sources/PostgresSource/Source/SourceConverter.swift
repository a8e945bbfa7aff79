import PipelineCore

/// The source's key or value converter: Connect's JsonConverter, or
/// Confluent's AvroConverter (which registers each table's schema once).
enum SourceConverter: Sendable {
    case json(JsonConverter)
    case avro(AvroConverter)

    init(isKey: Bool, schemasEnabled: Bool, registry: RegistryConverterSettings?) {
        // The source's definition accepts only AvroConverter among the registry converters.
        if let registry, registry.format == .avro {
            self = .avro(AvroConverter(settings: registry, isKey: isKey))
        } else {
            self = .json(JsonConverter(schemasEnabled: schemasEnabled))
        }
    }

    /// The writer for records of `schema` on `topic`: for Avro, the
    /// registry is asked once per topic and schema (then cached).
    func writer(for schema: InternedSchema?, topic: String) async throws -> RowWriter {
        switch self {
        case .json(let converter): return .json(converter)
        case .avro(let converter):
            // Without a key schema there is no key to write: any writer will do.
            guard let schema else { return .json(JsonConverter()) }
            return .avro(try await converter.encoder(for: schema.schema, topic: topic))
        }
    }
}

/// How one side (key or value) of a table's records is written.
enum RowWriter: Sendable {
    case json(JsonConverter)
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
