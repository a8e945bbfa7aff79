import Foundation
import PipelineCore

/// Confluent Schema Registry's REST API over a ``SchemaRegistry``: turns a
/// request (method, path, query, body) into Confluent's status and body.
/// Independent of the HTTP server, so every endpoint is testable as is.
public struct RegistryRestAPI: Sendable {
    /// Confluent's media type; clients accept it and `application/json`.
    public static let contentType = "application/vnd.schemaregistry.v1+json"

    /// A response: status and body bytes (JSON, or a schema's text).
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]

        init(_ status: Int, _ json: JSON) {
            self.status = status
            self.body = json.serialized()
        }

        init(_ status: Int, text: String) {
            self.status = status
            self.body = Array(text.utf8)
        }
    }

    public let registry: SchemaRegistry

    public init(registry: SchemaRegistry) {
        self.registry = registry
    }

    /// Answers one request; every failure is Confluent's error body.
    public func respond(method: String, path: String, query: [(String, String)], body: [UInt8]) async -> Response {
        do {
            return try await route(RegistryRoute.match(method: method, path: path), query: Query(query), body: body)
        } catch {
            return Response(error.status, error.body)
        }
    }

    private func route(_ route: RegistryRoute, query: Query, body: [UInt8]) async throws(RegistryError) -> Response {
        let deleted = query.flag("deleted")
        switch route {
        case .root:
            return Response(200, .object([]))
        case .schemaTypes:
            return Response(200, .array(SchemaType.allCases.map { .string($0.rawValue) }))
        case .mode:
            return Response(200, .object([("mode", .string("READWRITE"))]))
        case .schemaByID(let id):
            return Response(200, .object(Self.schemaMembers(try await registry.state.schema(id: id))))
        case .schemaTextByID(let id):
            return Response(200, text: try await registry.state.schema(id: id).text)
        case .versionsOfID(let id):
            let usages = try await registry.state.usages(of: id, includeDeleted: deleted)
            return Response(200, .array(usages.map { .object([("subject", .string($0.subject)), ("version", .int(Int64($0.version)))]) }))
        case .subjectsOfID(let id):
            let usages = try await registry.state.usages(of: id, includeDeleted: deleted)
            var seen = Set<String>()
            return Response(200, .array(usages.map(\.subject).filter { seen.insert($0).inserted }.map(JSON.string)))
        case .subjects:
            let prefix = query.value("subjectPrefix") ?? ""
            let names = await registry.state.subjectNames(includeDeleted: deleted || query.flag("deleted_only"))
            return Response(200, .array(names.filter { $0.hasPrefix(prefix) }.map(JSON.string)))
        case .versions(let subject):
            return Response(200, .array(try await registry.state.versions(of: subject, includeDeleted: deleted).map { .int(Int64($0)) }))
        case .version(let subject, let selector):
            return Response(200, Self.versionBody(try await registry.state.version(selector, of: subject, includeDeleted: deleted)))
        case .versionSchemaText(let subject, let selector):
            return Response(200, text: try await registry.state.version(selector, of: subject, includeDeleted: deleted).schema.text)
        case .register(let subject):
            let entry = try await registry.register(try Self.definition(body), subject: subject)
            return Response(200, .object([("id", .int(Int64(entry.id)))]))
        case .lookup(let subject):
            return Response(200, Self.versionBody(try await registry.state.lookup(try Self.definition(body), in: subject, includeDeleted: deleted)))
        case .deleteVersion(let subject, let selector):
            return Response(200, .int(Int64(try await registry.deleteVersion(selector, subject: subject, permanent: query.flag("permanent")))))
        case .deleteSubject(let subject):
            return Response(200, .array(try await registry.deleteSubject(subject, permanent: query.flag("permanent")).map { .int(Int64($0)) }))
        case .config(let subject, let method):
            return try await config(subject, method: method, query: query, body: body)
        case .compatibility(let subject, let selector):
            let problems = try await registry.compatibilityProblems(try Self.definition(body), subject: subject, version: selector)
            var members: [(String, JSON)] = [("is_compatible", .bool(problems.isEmpty))]
            if query.flag("verbose") { members.append(("messages", .array(problems.map(JSON.string)))) }
            return Response(200, .object(members))
        }
    }

    /// `/config` (nil subject) and `/config/{s}`. The global level always has a value (BACKWARD
    /// unless set; DELETE puts it back); a subject's exists only once set (40408 otherwise).
    private func config(_ subject: String?, method: String, query: Query, body: [UInt8]) async throws(RegistryError) -> Response {
        switch method {
        case "PUT":
            let level = try Self.level(body)
            try await registry.setLevel(level, subject: subject)
            return Response(200, .object([("compatibility", .string(level.rawValue))]))
        case "DELETE":
            let state = await registry.state
            guard let level = subject == nil ? state.effectiveLevel(nil) : state.configuredLevel(subject) else {
                throw .subjectConfigNotFound(subject ?? "")
            }
            try await registry.setLevel(nil, subject: subject)
            return Response(200, .object([("compatibilityLevel", .string(level.rawValue))]))
        default:
            let state = await registry.state
            let configured = subject == nil ? state.effectiveLevel(nil) : state.configuredLevel(subject)
            guard let level = configured ?? (query.flag("defaultToGlobal") ? state.effectiveLevel(nil) : nil) else {
                throw .subjectConfigNotFound(subject ?? "")
            }
            return Response(200, .object([("compatibilityLevel", .string(level.rawValue))]))
        }
    }

    // MARK: - Bodies

    private static func parse(_ body: [UInt8]) throws(RegistryError) -> JSON {
        guard !body.isEmpty else { throw .unprocessable("The request body is empty; a JSON object is expected") }
        do {
            return try JSON.parse(body)
        } catch {
            throw RegistryError(status: 400, code: 400, "Malformed JSON in the request body: \(error)")
        }
    }

    /// `{"schema": "…", "schemaType": "AVRO", "references": […]}`, canonicalized (42201 when invalid).
    static func definition(_ body: [UInt8]) throws(RegistryError) -> SchemaDefinition {
        let json = try parse(body)
        guard case .object = json else { throw .unprocessable("The request body must be a JSON object with a \"schema\" member") }
        guard let text = json["schema"]?.stringValue, !text.isEmpty else { throw .invalidSchema("Empty schema") }
        let typeName = json["schemaType"]?.stringValue ?? SchemaType.avro.rawValue
        guard let type = SchemaType(rawValue: typeName.uppercased()) else {
            throw .invalidSchema("schemaType \(typeName) is not supported; this registry takes \(SchemaType.allCases.map(\.rawValue).joined(separator: " and "))")
        }
        let references = try SchemaReference.list(json["references"])
        return SchemaDefinition(type: type, text: try SchemaCanonicalForm.canonical(text, type: type, references: references), references: references)
    }

    /// `{"compatibility": "FULL"}` (Confluent's PUT body; `compatibilityLevel` is taken too).
    private static func level(_ body: [UInt8]) throws(RegistryError) -> CompatibilityLevel {
        let json = try parse(body)
        guard let text = json["compatibility"]?.stringValue ?? json["compatibilityLevel"]?.stringValue else {
            throw .unprocessable("The request body must be {\"compatibility\": LEVEL}")
        }
        guard let level = CompatibilityLevel(parsing: text) else { throw .invalidCompatibilityLevel(text) }
        return level
    }

    /// `schemaType` (left out for Avro, as Confluent does), `references` when any, `schema`.
    private static func schemaMembers(_ schema: SchemaDefinition) -> [(String, JSON)] {
        var members: [(String, JSON)] = []
        if schema.type != .avro { members.append(("schemaType", .string(schema.type.rawValue))) }
        if !schema.references.isEmpty { members.append(("references", .array(schema.references.map(\.json)))) }
        members.append(("schema", .string(schema.text)))
        return members
    }

    private static func versionBody(_ entry: SubjectVersion) -> JSON {
        .object([("subject", .string(entry.subject)), ("version", .int(Int64(entry.version))), ("id", .int(Int64(entry.id)))] + schemaMembers(entry.schema))
    }

    /// Query parameters; flags are true for `true` in any case (Python's client sends `True`).
    private struct Query {
        let items: [(String, String)]
        init(_ items: [(String, String)]) { self.items = items }
        func value(_ name: String) -> String? { items.last { $0.0 == name }?.1 }
        func flag(_ name: String) -> Bool { value(name)?.lowercased() == "true" }
    }
}
