import PipelineCore

/// One record of the `_schemas` topic, in Confluent Schema Registry's own
/// format, so a topic either registry wrote can be read by the other:
///
/// | key | value |
/// |---|---|
/// | `{"keytype":"SCHEMA","subject":S,"version":V,"magic":1}` | `{"subject":S,"version":V,"id":N,"schemaType":"JSON","references":[…],"schema":"…","deleted":false}` (`schemaType` left out for Avro, `references` when empty); null: the version was deleted permanently |
/// | `{"keytype":"CONFIG","subject":S,"magic":0}` (no `subject`: the global level) | `{"compatibilityLevel":"FULL"}`; null: the subject's level was removed |
/// | `{"keytype":"DELETE_SUBJECT","subject":S,"magic":0}` | `{"subject":S,"version":V}`: every version up to V soft-deleted |
/// | `{"keytype":"CLEAR_SUBJECT","subject":S,"magic":0}` | `{"subject":S}`: the subject's deleted versions removed permanently |
/// | `{"keytype":"NOOP","magic":0}` | null |
///
/// Keys of other types (Confluent's `MODE`, `CONTEXT`, ...) are skipped when read.
public enum RegistryRecord: Sendable, Equatable {
    case schema(SubjectVersion)
    /// A permanently deleted version (the SCHEMA key's tombstone).
    case schemaRemoved(subject: String, version: Int)
    /// A compatibility level; nil subject: the global one; nil level: removed.
    case config(subject: String?, level: CompatibilityLevel?)
    case deleteSubject(subject: String, version: Int)
    case clearSubject(subject: String)
    case noop

    /// The record's key and value bytes (nil value: a tombstone).
    public var encoded: (key: [UInt8], value: [UInt8]?) {
        switch self {
        case .schema(let v):
            var value: [(String, JSON)] = [("subject", .string(v.subject)), ("version", .int(Int64(v.version))), ("id", .int(Int64(v.id)))]
            if v.schema.type != .avro { value.append(("schemaType", .string(v.schema.type.rawValue))) }
            if !v.schema.references.isEmpty { value.append(("references", .array(v.schema.references.map(\.json)))) }
            value.append(("schema", .string(v.schema.text)))
            value.append(("deleted", .bool(v.deleted)))
            return (Self.schemaKey(v.subject, v.version), JSON.object(value).serialized())
        case .schemaRemoved(let subject, let version):
            return (Self.schemaKey(subject, version), nil)
        case .config(let subject, let level):
            var key: [(String, JSON)] = [("keytype", .string("CONFIG"))]
            if let subject { key.append(("subject", .string(subject))) }
            key.append(("magic", .int(0)))
            return (JSON.object(key).serialized(), level.map { JSON.object([("compatibilityLevel", .string($0.rawValue))]).serialized() })
        case .deleteSubject(let subject, let version):
            return (
                Self.subjectKey("DELETE_SUBJECT", subject),
                JSON.object([("subject", .string(subject)), ("version", .int(Int64(version)))]).serialized()
            )
        case .clearSubject(let subject):
            return (Self.subjectKey("CLEAR_SUBJECT", subject), JSON.object([("subject", .string(subject))]).serialized())
        case .noop:
            return (JSON.object([("keytype", .string("NOOP")), ("magic", .int(0))]).serialized(), nil)
        }
    }

    private static func schemaKey(_ subject: String, _ version: Int) -> [UInt8] {
        JSON.object([
            ("keytype", .string("SCHEMA")), ("subject", .string(subject)), ("version", .int(Int64(version))), ("magic", .int(1)),
        ]).serialized()
    }

    private static func subjectKey(_ type: String, _ subject: String) -> [UInt8] {
        JSON.object([("keytype", .string(type)), ("subject", .string(subject)), ("magic", .int(0))]).serialized()
    }

    /// Decodes one record; nil for a key type this registry does not keep.
    /// A malformed record is an error naming `position` (topic-partition@offset).
    public static func decode(key: [UInt8]?, value: [UInt8]?, position: String) throws -> RegistryRecord? {
        func bad(_ reason: String) -> PipelineError { .badMessage(position: position, reason: "not a schema registry record: \(reason)") }
        guard let key else { throw bad("no key") }
        let keyJSON: JSON, valueJSON: JSON?
        do {
            keyJSON = try JSON.parse(key)
            valueJSON = try value.map { try JSON.parse($0) }
        } catch {
            throw bad("\(error)")
        }
        guard let type = keyJSON["keytype"]?.stringValue else { throw bad("the key has no keytype") }
        let subject = keyJSON["subject"]?.stringValue
        switch type {
        case "SCHEMA":
            guard let subject, case .int(let version)? = keyJSON["version"] else { throw bad("a SCHEMA key needs subject and version") }
            guard let valueJSON, valueJSON != .null else { return .schemaRemoved(subject: subject, version: Int(version)) }
            guard case .int(let id)? = valueJSON["id"], let text = valueJSON["schema"]?.stringValue else {
                throw bad("a SCHEMA value needs id and schema")
            }
            let typeName = valueJSON["schemaType"]?.stringValue ?? SchemaType.avro.rawValue
            guard let schemaType = SchemaType(rawValue: typeName) else { throw bad("schemaType \(typeName) is not supported here") }
            let references: [SchemaReference]
            do {
                references = try SchemaReference.list(valueJSON["references"])
            } catch {
                throw bad(error.message)
            }
            let deleted: Bool
            if case .bool(let flag)? = valueJSON["deleted"] { deleted = flag } else { deleted = false }
            return .schema(
                SubjectVersion(
                    subject: subject, version: Int(version), id: Int(id),
                    schema: SchemaDefinition(type: schemaType, text: text, references: references), deleted: deleted))
        case "CONFIG":
            guard let valueJSON, valueJSON != .null else { return .config(subject: subject, level: nil) }
            // Confluent has written the level under both names over the years.
            let text = valueJSON["compatibilityLevel"]?.stringValue ?? valueJSON["compatibility"]?.stringValue
            guard let text else { return nil }
            guard let level = CompatibilityLevel(parsing: text) else { throw bad("unknown compatibility level \(text)") }
            return .config(subject: subject, level: level)
        case "DELETE_SUBJECT":
            guard let subject, case .int(let version)? = valueJSON?["version"] else { throw bad("a DELETE_SUBJECT record needs subject and version") }
            return .deleteSubject(subject: subject, version: Int(version))
        case "CLEAR_SUBJECT":
            guard let subject else { throw bad("a CLEAR_SUBJECT key needs a subject") }
            return .clearSubject(subject: subject)
        case "NOOP":
            return .noop
        default:
            return nil
        }
    }
}
