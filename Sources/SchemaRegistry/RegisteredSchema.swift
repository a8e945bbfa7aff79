import PipelineCore

/// The schema languages this registry stores. Confluent's default is AVRO:
/// a request or record without `schemaType` is Avro.
public enum SchemaType: String, Sendable, CaseIterable, Equatable {
    case avro = "AVRO"
    case json = "JSON"
}

/// A schema's reference to another subject's version (Confluent's
/// `{"name": …, "subject": …, "version": …}`): `name` is how the schema
/// names the referenced type.
public struct SchemaReference: Sendable, Hashable {
    public var name: String
    public var subject: String
    public var version: Int

    public init(name: String, subject: String, version: Int) {
        self.name = name
        self.subject = subject
        self.version = version
    }

    var json: JSON {
        .object([("name", .string(name)), ("subject", .string(subject)), ("version", .int(Int64(version)))])
    }

    /// Parses Confluent's `references` array; an entry missing a member is an error naming it.
    static func list(_ json: JSON?) throws(RegistryError) -> [SchemaReference] {
        guard let json, json != .null else { return [] }
        guard case .array(let items) = json else { throw .unprocessable("references must be an array") }
        var out: [SchemaReference] = []
        for (index, item) in items.enumerated() {
            guard let name = item["name"]?.stringValue, let subject = item["subject"]?.stringValue,
                case .int(let version)? = item["version"], version > 0, version <= Int64(Int32.max)
            else {
                throw .unprocessable("references[\(index)] needs a name, a subject and a version of 1 or more")
            }
            out.append(SchemaReference(name: name, subject: subject, version: Int(version)))
        }
        return out
    }
}

/// A schema as a client submits it: text, language and references.
public struct SchemaDefinition: Sendable, Hashable {
    public var type: SchemaType
    /// The schema text in the registry's canonical form (see ``SchemaCanonicalForm``).
    public var text: String
    public var references: [SchemaReference]

    public init(type: SchemaType, text: String, references: [SchemaReference] = []) {
        self.type = type
        self.text = text
        self.references = references
    }
}

/// One version of a subject, as kept in the `_schemas` topic.
public struct SubjectVersion: Sendable, Hashable {
    public var subject: String
    public var version: Int
    /// The schema's global id: the same schema has the same id in every subject.
    public var id: Int
    public var schema: SchemaDefinition
    /// Soft-deleted: hidden unless asked for with `deleted=true`, still readable by id.
    public var deleted: Bool

    public init(subject: String, version: Int, id: Int, schema: SchemaDefinition, deleted: Bool = false) {
        self.subject = subject
        self.version = version
        self.id = id
        self.schema = schema
        self.deleted = deleted
    }
}
