/// Where the REST API listens: Connect's `listeners` value, e.g.
/// `http://127.0.0.1:8083` or `https://0.0.0.0:8443` (IPv4; https takes
/// its certificate from ``TLSSettings``).
public struct Listener: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// `https://`: TLS (``TLSTerminator``) in front of the REST server.
    public var secure: Bool

    public init(host: String, port: UInt16, secure: Bool = false) {
        self.host = host
        self.port = port
        self.secure = secure
    }

    /// The default: loopback only, Connect's port.
    public static let loopback = Listener(host: "127.0.0.1", port: 8083)

    public var description: String { "\(secure ? "https" : "http")://\(host):\(port)" }

    /// Parses one listener; `localhost` is 127.0.0.1, an empty host is an
    /// error (Connect would bind every interface; here that must be said:
    /// `http://0.0.0.0:8083`).
    public static func parse(_ text: String) throws(ConnectRestError) -> Listener {
        let value = text.trimmingSpaces
        let secure = value.lowercased().hasPrefix("https://")
        guard secure || value.lowercased().hasPrefix("http://") else {
            throw .badRequest("listeners: '\(value)': expected http://HOST:PORT or https://HOST:PORT")
        }
        let rest = value.dropFirst(secure ? "https://".count : "http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
            throw .badRequest("listeners: '\(value)': expected http(s)://HOST:PORT with a port of 0 to 65535")
        }
        var host = String(rest[..<colon])
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard !host.isEmpty else {
            throw .badRequest("listeners: '\(value)' names no host; give 127.0.0.1, or 0.0.0.0 to listen on every interface")
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else {
            throw .badRequest("listeners: '\(value)': the host must be an IPv4 address such as 127.0.0.1")
        }
        return Listener(host: host, port: port, secure: secure)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
