import Console
import FlyingFox
import Foundation
import Logging
import PipelineCore
import ServiceLifecycle

/// `tributary ui`: the web console for a cluster alone (no connectors), as a
/// swift-service-lifecycle `Service`.
public struct ConsoleService: Service {
    public let web: WebRoutes
    private let listener: Listener
    private let auth: BasicAuth?
    private let logger: Logger
    /// Set once the server listens: the address actually bound.
    public let boundListener = Locked<Listener?>(nil)

    public init(web: WebRoutes, listener: Listener, auth: BasicAuth?, logger: Logger) {
        self.web = web
        self.listener = listener
        self.auth = auth
        self.logger = logger
    }

    public func run() async throws {
        let logger = self.logger, bound = self.boundListener
        try await HTTPListening.serve(listener, handler: ConsoleHandler(web: web, auth: auth), logger: logger) { actual in
            bound.withLock { $0 = actual }
            logger.notice("console listening on \(actual)/ui")
        }
    }
}

/// The console's pages, `/` sending browsers to `/ui`.
struct ConsoleHandler: HTTPHandler {
    let web: WebRoutes
    let auth: BasicAuth?

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let auth, !auth.allows(request.headers[.authorization]) {
            var denied = WebRoutes.plain(401, "Credentials are required (HTTP basic auth)")
            denied.headers[HTTPHeader("WWW-Authenticate")] = "Basic realm=\"tributary-console\""
            return denied
        }
        if request.path == "/" { return HTTPResponse(statusCode: .found, headers: HTTPHeaders([.location: Console.prefix])) }
        return await web.respond(to: request) ?? WebRoutes.plain(404, "not found; the console is under \(Console.prefix)")
    }
}
