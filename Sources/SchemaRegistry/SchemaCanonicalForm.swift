import PipelineCore

/// The form a schema is stored and compared in, so the same schema sent
/// with other whitespace (or attribute order) is the same version and id.
/// Avro schemas are parsed and written back with every attribute kept; JSON
/// schemas, and Avro schemas with references (whose types live in other
/// subjects), are kept as compact JSON. Invalid schemas are Confluent's 42201.
enum SchemaCanonicalForm {
    static func canonical(_ text: String, type: SchemaType, references: [SchemaReference]) throws(RegistryError) -> String {
        if type == .avro && references.isEmpty {
            do {
                return try AvroSchema(parsing: text).text
            } catch {
                throw .invalidSchema(error.description)
            }
        }
        do {
            return try JSON.parse(text).text
        } catch {
            throw .invalidSchema("\(type.rawValue) schema is not valid JSON: \(error)")
        }
    }
}
