/// A fully prepared HTTP request: the signed target, headers and body.
struct HTTPRequest: Sendable {
    var method: String
    /// Absolute URL: scheme, host, port and the signed, encoded target.
    var url: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

/// An HTTP response as received.
struct HTTPResponse: Sendable {
    var status: Int
    /// Header fields with lower-cased names; the last value of a repeated name wins.
    var headers: [String: String]
    var body: [UInt8]

    var isSuccess: Bool { (200..<300).contains(status) }
}

/// A transfer that failed below HTTP (no response): connect, send, receive, timeout.
struct TransportFailure: Error, Sendable {
    /// The libcurl `CURLcode`.
    var code: Int
    /// libcurl's explanation.
    var message: String
    /// Whether trying again may succeed (resets, timeouts, refused connections).
    var isTransient: Bool
}
