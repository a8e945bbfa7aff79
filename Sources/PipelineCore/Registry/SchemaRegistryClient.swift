import Foundation

/// A schema as a registry holds it: its text and type.
public struct RegisteredSchema: Sendable, Hashable {
    /// `AVRO`, `JSON` or `PROTOBUF`, as the registry names them.
    public var schemaType: String
    /// The schema document (Avro schema JSON, JSON Schema).
    public var schema: String

    public init(schemaType: String = "AVRO", schema: String) {
        self.schemaType = schemaType
        self.schema = schema
    }
}

/// A registry answer that is not a success, or a transfer that failed.
/// Descriptions never contain credentials.
public struct SchemaRegistryError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status, nil when no answer came.
    public var status: Int?
    /// Confluent's `error_code` (40401 subject not found, 40403 schema not found, 409, 42201, ...).
    public var errorCode: Int?
    public var message: String
    /// What was asked, e.g. `GET /schemas/ids/7`.
    public var request: String
    /// Whether trying again may succeed (no answer, or a 5xx).
    public var isTransient: Bool

    public var description: String {
        let code = errorCode.map { " (error \($0))" } ?? ""
        let status = self.status.map { "HTTP \($0)" } ?? "no answer"
        return "schema registry \(request): \(status)\(code): \(message)"
    }

    /// True for Confluent's "schema not found" and "subject not found" answers.
    public var isNotFound: Bool { status == 404 }
}

/// A client of Confluent Schema Registry's REST API: registers schemas and
/// looks them up by id or subject, caching what never changes (a schema
/// by id, an id by subject and schema).
///
/// Requests run one at a time on the client's own thread (libcurl blocks).
/// Credentials (`basic.auth.user.info`) go in the Authorization header only.
public final class SchemaRegistryClient: Sendable {
    /// Base URLs, tried in order until one answers.
    public let urls: [String]
    private let authorization: Secret?
    private let worker: BlockingWorker
    private let connection: CurlConnection
    private let limits = TransferLimits(connectTimeoutMilliseconds: 5_000, totalTimeoutMilliseconds: 30_000, stallSeconds: 10)
    private let cache = Locked(Cache())

    private struct Cache {
        var byID: [Int32: RegisteredSchema] = [:]
        var ids: [SubjectSchema: Int32] = [:]
    }

    private struct SubjectSchema: Hashable {
        var subject: String
        var schema: RegisteredSchema
    }

    /// A client of the registry at `urls` (`schema.registry.url`, comma-separated).
    /// `userInfo` is `user:password` for HTTP basic authentication.
    public init(urls: [String], userInfo: Secret? = nil) {
        self.urls = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.authorization = userInfo.flatMap { info in
            info.value.isEmpty ? nil : Secret("Basic " + Data(info.value.utf8).base64EncodedString())
        }
        self.worker = BlockingWorker(name: "tributary-schema-registry")
        self.connection = CurlConnection()
    }

    deinit {
        let connection = self.connection
        worker.shutdown { withExtendedLifetime(connection) {} }
    }

    /// Registers `schema` under `subject` (or finds it there) and returns its id.
    public func register(subject: String, schema: RegisteredSchema) async throws(SchemaRegistryError) -> Int32 {
        try await id(of: schema, under: subject, path: "/subjects/\(Self.escape(subject))/versions")
    }

    /// The id `schema` has under `subject`, without registering it (`POST /subjects/{subject}`).
    public func lookup(subject: String, schema: RegisteredSchema) async throws(SchemaRegistryError) -> Int32 {
        try await id(of: schema, under: subject, path: "/subjects/\(Self.escape(subject))")
    }

    /// POSTs `schema` to `path` (registration or lookup) and returns the id in the answer, cached.
    private func id(of schema: RegisteredSchema, under subject: String, path: String) async throws(SchemaRegistryError) -> Int32 {
        let key = SubjectSchema(subject: subject, schema: schema)
        if let id = cache.withLock({ $0.ids[key] }) { return id }
        let reply = try await call("POST", path, body: Self.body(schema))
        guard case .int(let id)? = reply["id"], let id32 = Int32(exactly: id) else {
            throw SchemaRegistryError(status: 200, message: "no id in the answer", request: "POST \(path)", isTransient: false)
        }
        remember(id32, schema, subject: subject)
        return id32
    }

    /// The schema with `id` (`GET /schemas/ids/{id}`), cached for the life of the client.
    public func schema(id: Int32) async throws(SchemaRegistryError) -> RegisteredSchema {
        if let known = cache.withLock({ $0.byID[id] }) { return known }
        let reply = try await call("GET", "/schemas/ids/\(id)", body: nil)
        guard case .string(let text)? = reply["schema"] else {
            throw SchemaRegistryError(status: 200, message: "no schema in the answer", request: "GET /schemas/ids/\(id)", isTransient: false)
        }
        let schema = RegisteredSchema(schemaType: reply["schemaType"]?.stringValue ?? "AVRO", schema: text)
        cache.withLock { $0.byID[id] = schema }
        return schema
    }

    /// The latest version under `subject` (`GET /subjects/{subject}/versions/latest`): its id and schema.
    /// Not cached: a new version may be registered at any time.
    public func latest(subject: String) async throws(SchemaRegistryError) -> (id: Int32, schema: RegisteredSchema) {
        let reply = try await call("GET", "/subjects/\(Self.escape(subject))/versions/latest", body: nil)
        guard case .int(let id)? = reply["id"], let id32 = Int32(exactly: id), case .string(let text)? = reply["schema"] else {
            throw SchemaRegistryError(status: 200, message: "no id or schema in the answer", request: "GET /subjects/\(subject)/versions/latest", isTransient: false)
        }
        let schema = RegisteredSchema(schemaType: reply["schemaType"]?.stringValue ?? "AVRO", schema: text)
        remember(id32, schema, subject: subject)
        return (id32, schema)
    }

    private func remember(_ id: Int32, _ schema: RegisteredSchema, subject: String) {
        cache.withLock { cache in
            cache.byID[id] = schema
            if cache.ids.count >= 1024 { cache.ids.removeAll() }
            cache.ids[SubjectSchema(subject: subject, schema: schema)] = id
        }
    }

    // MARK: - HTTP

    private static func body(_ schema: RegisteredSchema) -> [UInt8] {
        var members: [(String, JSON)] = [("schema", .string(schema.schema))]
        // Confluent's clients leave schemaType out for Avro, the default.
        if schema.schemaType != "AVRO" { members.append(("schemaType", .string(schema.schemaType))) }
        return JSON.object(members).serialized()
    }

    /// One request, to each URL in turn until one answers.
    private func call(_ method: String, _ path: String, body: [UInt8]?) async throws(SchemaRegistryError) -> JSON {
        let request = "\(method) \(path)"
        var headers: [(name: String, value: String)] = [
            ("Accept", "application/vnd.schemaregistry.v1+json, application/json"),
            ("Content-Type", "application/vnd.schemaregistry.v1+json"),
        ]
        if let authorization { headers.append(("Authorization", authorization.value)) }
        var lastFailure = SchemaRegistryError(status: nil, message: "no schema.registry.url", request: request, isTransient: false)
        for base in urls {
            let http = HTTPClientRequest(method: method, url: base + path, headers: headers, body: body ?? [])
            let connection = self.connection, limits = self.limits
            let outcome: Result<HTTPClientResponse, TransportFailure>
            do {
                outcome = try await worker.run { Result { () throws(TransportFailure) in try connection.perform(http, limits: limits) } }
            } catch {
                throw SchemaRegistryError(status: nil, message: "the registry client was shut down", request: request, isTransient: false)
            }
            switch outcome {
            case .failure(let failure):
                // libcurl's message names host and port, never the credentials (they are a header).
                lastFailure = SchemaRegistryError(status: nil, message: "\(Self.redacted(base)): \(failure.message)", request: request, isTransient: true)
                continue
            case .success(let response):
                let json = try? JSON.parse(response.body)
                guard response.isSuccess else {
                    var errorCode: Int?
                    if case .int(let code)? = json?["error_code"] { errorCode = Int(code) }
                    let message = json?["message"]?.stringValue ?? String(decoding: response.body.prefix(200), as: UTF8.self)
                    throw SchemaRegistryError(
                        status: response.status, errorCode: errorCode, message: message, request: request,
                        isTransient: response.status >= 500)
                }
                guard let json else {
                    throw SchemaRegistryError(status: response.status, message: "the answer is not JSON", request: request, isTransient: false)
                }
                return json
            }
        }
        throw lastFailure
    }

    /// A URL without any `user:password@` part.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let hostEnd = url[scheme.upperBound...].firstIndex(of: "/") ?? url.endIndex
        guard at < hostEnd else { return url }
        return String(url[..<scheme.upperBound]) + String(url[url.index(after: at)...])
    }

    /// A path segment, percent-encoded (subjects may hold any character).
    static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}
