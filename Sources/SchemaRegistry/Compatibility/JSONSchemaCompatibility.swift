import PipelineCore

/// JSON Schema compatibility, a documented subset of Confluent's rules
/// (docs/REGISTRY.md): for object schemas, property by property,
///
/// - a property's `type` may widen (`integer` → `number`, a type → a list holding it) but not change;
/// - the reader may not require a property the writer did not require;
/// - a closed reader (`additionalProperties: false`) may not lose a property the writer has;
/// - nested object properties are compared the same way.
///
/// `$ref`, combinators (`allOf`, `oneOf`, ...) and value constraints are not compared.
enum JSONSchemaCompatibility {
    static func problems(reader: String, writer: String) -> [String] {
        guard let r = try? JSON.parse(reader), let w = try? JSON.parse(writer) else { return ["a schema is not valid JSON"] }
        var out: [String] = []
        compare(reader: r, writer: w, path: "#", into: &out)
        return out
    }

    private static func compare(reader: JSON, writer: JSON, path: String, into out: inout [String]) {
        let readerTypes = types(reader), writerTypes = types(writer)
        if let readerTypes, let writerTypes {
            let unread = writerTypes.filter { written in !readerTypes.contains(written) && !(written == "integer" && readerTypes.contains("number")) }
            if !unread.isEmpty {
                out.append("\(path): type \(unread.sorted().joined(separator: ", ")) of the writer is not accepted by the reader's \(readerTypes.sorted().joined(separator: ", "))")
                return
            }
        }
        let readerProperties = properties(reader), writerProperties = properties(writer)
        let writerRequired = Set(required(writer))
        for name in required(reader) where !writerRequired.contains(name) {
            out.append("\(path)/properties/\(name): required by the reader, not by the writer")
        }
        if case .bool(false)? = reader["additionalProperties"] {
            for name in writerProperties.keys.sorted() where readerProperties[name] == nil {
                out.append("\(path)/properties/\(name): the writer's property is not allowed by the closed reader")
            }
        }
        for name in readerProperties.keys.sorted() {
            guard let readerProperty = readerProperties[name], let writerProperty = writerProperties[name] else { continue }
            compare(reader: readerProperty, writer: writerProperty, path: "\(path)/properties/\(name)", into: &out)
        }
    }

    /// The `type` keyword as a set; nil when absent (any type).
    private static func types(_ schema: JSON) -> Set<String>? {
        switch schema["type"] {
        case .string(let name)?: return [name]
        case .array(let names)?: return Set(names.compactMap(\.stringValue))
        default: return nil
        }
    }

    private static func properties(_ schema: JSON) -> [String: JSON] {
        guard case .object(let members)? = schema["properties"] else { return [:] }
        return Dictionary(members, uniquingKeysWith: { _, last in last })
    }

    private static func required(_ schema: JSON) -> [String] {
        guard case .array(let names)? = schema["required"] else { return [] }
        return names.compactMap(\.stringValue)
    }
}
