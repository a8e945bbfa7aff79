import Console
import FlyingFox
import Foundation
import PrometheusExport

/// The worker's pages beside the REST API, on the same listener: the web
/// console under `/ui` and Prometheus metrics on `/metrics`.
public struct WebRoutes: Sendable {
    /// Nil: no `/ui`.
    public let console: Console?
    /// Nil: no `/metrics` (no Prometheus backend was bootstrapped).
    public let metrics: PrometheusExport?

    public init(console: Console?, metrics: PrometheusExport?) {
        self.console = console
        self.metrics = metrics
    }

    /// The answer for a console or metrics path; nil for any other path (the REST API's).
    func respond(to request: HTTPRequest) async -> HTTPResponse? {
        let path = request.path
        if path == "/metrics", let metrics {
            guard request.method == .GET || request.method == .HEAD else { return Self.plain(405, "GET /metrics") }
            return HTTPResponse(
                statusCode: .ok, headers: HTTPHeaders([.contentType: PrometheusExport.contentType]), body: Data(metrics.exposition()))
        }
        guard let console, path == Console.prefix || path.hasPrefix(Console.prefix + "/") else { return nil }
        let answer = await console.respond(
            to: ConsoleRequest(method: request.method.rawValue, path: path, query: request.query.map { ($0.name, $0.value) }))
        return HTTPResponse(
            statusCode: HTTPStatusCode(answer.status, phrase: RestHandler.phrase(answer.status)),
            headers: HTTPHeaders([
                .contentType: answer.contentType,
                // Pages show live state; nothing of theirs may be framed elsewhere.
                HTTPHeader("Cache-Control"): "no-store",
                HTTPHeader("X-Frame-Options"): "DENY",
                HTTPHeader("Content-Security-Policy"): "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
                HTTPHeader("X-Content-Type-Options"): "nosniff",
            ]),
            body: Data(answer.body))
    }

    static func plain(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: RestHandler.phrase(status)), headers: HTTPHeaders([.contentType: "text/plain; charset=utf-8"]),
            body: Data(text.utf8))
    }
}
