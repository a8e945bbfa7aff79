import FlyingFox
import FlyingSocks
import Foundation
import Logging
import PipelineCore

/// The REST API on FlyingFox: non-blocking sockets, its poll wait on a
/// thread of its own, so nothing blocks Swift's cooperative pool.
struct RestHandler: HTTPHandler {
    let api: Locked<ConnectRestAPI>
    let auth: BasicAuth?
    /// The console and metrics beside the API.
    var web: WebRoutes?
    let logger: Logger

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let method = request.method.rawValue
        // Method and path only: a body may hold a password.
        logger.debug("\(method) \(request.path)")
        if let auth, !auth.allows(request.headers[.authorization]) {
            return Self.response(
                ConnectRestAPI.Response(401, ConnectRestError(401, "Credentials are required (HTTP basic auth)").body),
                extra: [HTTPHeader("WWW-Authenticate"): "Basic realm=\"tributary-connect\""])
        }
        if let web, let page = await web.respond(to: request) { return page }
        let body = [UInt8](try await request.bodyData)
        let answer = await api.value.respond(
            method: method, path: request.path, query: request.query.map { ($0.name, $0.value) }, body: body)
        return Self.response(answer)
    }

    static func response(_ answer: ConnectRestAPI.Response, extra: [HTTPHeader: String] = [:]) -> HTTPResponse {
        var headers = HTTPHeaders(extra)
        var data = Data()
        if let body = answer.body {
            data = Data(body.serialized())
            headers[.contentType] = "application/json"
        }
        return HTTPResponse(statusCode: HTTPStatusCode(answer.status, phrase: phrase(answer.status)), headers: headers, body: data)
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 502: "Bad Gateway"
        case 409: "Conflict"
        case 422: "Unprocessable Entity"
        default: "Internal Server Error"
        }
    }
}
