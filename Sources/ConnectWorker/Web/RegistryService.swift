import FlyingFox
import Foundation
import Logging
import PipelineCore
import SchemaRegistry
import ServiceLifecycle

/// `tributary registry` (and `tributary connect --registry-listeners`):
/// Confluent Schema Registry's REST API on its own listener, as a
/// swift-service-lifecycle `Service`. The registry is loaded from its topic
/// before the listener opens, so no client ever sees it half-read.
public struct RegistryService: Service {
    public let registry: SchemaRegistry
    private let listener: Listener
    private let auth: BasicAuth?
    private let logger: Logger
    /// Set once the server listens: the address actually bound.
    public let boundListener = Locked<Listener?>(nil)

    public init(registry: SchemaRegistry, listener: Listener, auth: BasicAuth?, logger: Logger) {
        self.registry = registry
        self.listener = listener
        self.auth = auth
        self.logger = logger
    }

    public func run() async throws {
        try await registry.open()
        let logger = self.logger, bound = self.boundListener
        let handler = RegistryHandler(api: RegistryRestAPI(registry: registry), auth: auth, logger: logger)
        do {
            try await HTTPListening.serve(listener, handler: handler, logger: logger) { actual in
                bound.withLock { $0 = actual }
                logger.notice("schema registry listening on \(actual)")
            }
        } catch {
            await registry.close()
            throw error
        }
        await registry.close()
    }
}

/// The registry's endpoints over FlyingFox, behind the optional basic auth.
struct RegistryHandler: HTTPHandler {
    let api: RegistryRestAPI
    let auth: BasicAuth?
    let logger: Logger

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        // Method and path only: a body may be large.
        logger.debug("\(request.method.rawValue) \(request.path)")
        if let auth, !auth.allows(request.headers[.authorization]) {
            var denied = Self.response(401, RegistryError(status: 401, code: 401, "Credentials are required (HTTP basic auth)").body.serialized())
            denied.headers[HTTPHeader("WWW-Authenticate")] = "Basic realm=\"tributary-registry\""
            return denied
        }
        let answer = await api.respond(
            method: request.method.rawValue, path: request.path, query: request.query.map { ($0.name, $0.value) },
            body: [UInt8](try await request.bodyData))
        return Self.response(answer.status, answer.body)
    }

    private static func response(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: RestHandler.phrase(status)),
            headers: HTTPHeaders([.contentType: RegistryRestAPI.contentType]), body: Data(body))
    }
}
