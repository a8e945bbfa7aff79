/// Decides whether a new schema may follow a subject's earlier ones under a
/// compatibility level: BACKWARD (the new schema reads what the old wrote),
/// FORWARD (the old reads what the new writes), FULL (both), against the
/// latest live version or, for the `_TRANSITIVE` levels, every live one.
///
/// Avro pairs follow Avro's schema resolution rules (``AvroCompatibility``);
/// JSON Schema pairs a documented subset (``JSONSchemaCompatibility``).
/// Schemas with references are stored and their references checked to
/// exist, but are not compared (their types live in other subjects).
public struct SchemaCompatibility: Sendable {
    public init() {}

    /// Each rule `schema` breaks; empty when it is compatible. `existing` is oldest first.
    public func problems(_ schema: SchemaDefinition, against existing: [SchemaDefinition], level: CompatibilityLevel) -> [String] {
        guard level != .none, let latest = existing.last else { return [] }
        let compared = level.isTransitive ? existing : [latest]
        var out: [String] = []
        for old in compared.reversed() {
            if old.type != schema.type {
                out.append("the schema type changed from \(old.type.rawValue) to \(schema.type.rawValue)")
                continue
            }
            guard old.references.isEmpty, schema.references.isEmpty else { continue }
            if level.checksBackward {
                out += pair(reader: schema, writer: old).map { "BACKWARD: \($0)" }
            }
            if level.checksForward {
                out += pair(reader: old, writer: schema).map { "FORWARD: \($0)" }
            }
        }
        return out
    }

    /// What keeps `reader` from reading data written with `writer`.
    private func pair(reader: SchemaDefinition, writer: SchemaDefinition) -> [String] {
        switch reader.type {
        case .avro: AvroCompatibility.problems(reader: reader.text, writer: writer.text)
        case .json: JSONSchemaCompatibility.problems(reader: reader.text, writer: writer.text)
        }
    }
}
