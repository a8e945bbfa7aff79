/// A fully prepared HTTP request for ``CurlConnection``: the (signed) target, headers and body.
package struct HTTPClientRequest: Sendable {
    package var method: String
    /// Absolute URL: scheme, host, port and the signed, encoded target.
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An HTTP response as received.
package struct HTTPClientResponse: Sendable {
    package var status: Int
    /// Header fields with lower-cased names; the last value of a repeated name wins.
    package var headers: [String: String]
    package var body: [UInt8]

    package init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package var isSuccess: Bool { (200..<300).contains(status) }
}

/// A transfer that failed below HTTP (no response): connect, send, receive, timeout.
package struct TransportFailure: Error, Sendable {
    /// The libcurl `CURLcode`.
    package var code: Int
    /// libcurl's explanation.
    package var message: String
    /// Whether trying again may succeed (resets, timeouts, refused connections).
    package var isTransient: Bool

    package init(code: Int, message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }
}
