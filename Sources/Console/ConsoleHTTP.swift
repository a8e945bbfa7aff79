/// A request to the console, independent of the HTTP server that carries it.
public struct ConsoleRequest: Sendable {
    public var method: String
    /// The path without the query, percent-decoded per segment by the console.
    public var path: String
    /// Query parameters in order, already percent-decoded.
    public var query: [(String, String)]

    public init(method: String, path: String, query: [(String, String)] = []) {
        self.method = method
        self.path = path
        self.query = query
    }

    func parameter(_ name: String) -> String? {
        query.last { $0.0 == name }.map(\.1)
    }
}

/// What the console answers: a status, a content type and the body.
public struct ConsoleResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/html; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, html: String) {
        self.init(status: status, body: Array(html.utf8))
    }
}
