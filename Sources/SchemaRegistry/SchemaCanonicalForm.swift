import PipelineCore

/// The form a schema is stored and compared in, so the same schema sent
/// with other whitespace is the same version and id. Invalid schemas are
/// Confluent's 42201.
enum SchemaCanonicalForm {
    static func canonical(_ text: String, type: SchemaType, references: [SchemaReference]) throws(RegistryError) -> String {
        do {
            return try JSON.parse(text).text
        } catch {
            throw .invalidSchema("\(type.rawValue) schema is not valid JSON: \(error)")
        }
    }
}
