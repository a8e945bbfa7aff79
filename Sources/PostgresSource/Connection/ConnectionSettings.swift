import PipelineCore

/// Where and how to connect: libpq connection keywords, with the password held
/// apart as a ``Secret`` so that printing or logging the settings never shows it.
///
/// Built from Kafka Connect's `connection.url` — a JDBC URL
/// (`jdbc:postgresql://host:port/db?user=..&password=..&sslmode=..`) or a libpq
/// URL (`postgresql://user:pw@host:port/db?sslmode=..`) — plus the optional
/// `connection.user` / `connection.password`, which win over the URL's.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// libpq keywords (`host`, `port`, `dbname`, `user`, `sslmode`, ...), without the password.
    public var parameters: [String: String]
    public var password: Secret?
    /// JDBC driver parameters with no libpq equivalent (e.g. `reWriteBatchedInserts`);
    /// ignored, listed so the caller can warn about them.
    public var ignoredParameters: [String]

    /// Parses `url` and applies `user` / `password` on top.
    public init(url: String, user: String? = nil, password: Secret? = nil) throws(PipelineError) {
        var parsed = try ConnectionURL.parse(url)
        if let user, !user.isEmpty { parsed.parameters["user"] = user }
        if let password, !password.value.isEmpty { parsed.password = password }
        self.parameters = parsed.parameters
        self.password = parsed.password
        self.ignoredParameters = parsed.ignored
        // Sensible client defaults, unless the URL chose otherwise: a name in
        // pg_stat_activity, and no connect attempt that hangs forever.
        if parameters["application_name"] == nil { parameters["application_name"] = "tributary" }
        if parameters["connect_timeout"] == nil { parameters["connect_timeout"] = "10" }
    }

    /// `host:port/db as user`, for messages.
    public var target: String {
        let host = parameters["host"] ?? parameters["hostaddr"] ?? "localhost"
        let port = parameters["port"] ?? "5432"
        let db = parameters["dbname"] ?? parameters["user"] ?? ""
        return "\(host):\(port)/\(db)" + (parameters["user"].map { " as \($0)" } ?? "")
    }

    public var description: String {
        let shown = parameters.keys.sorted().map { key in
            "\(key)=\(ConfigKey.looksSecret(key) ? "[hidden]" : parameters[key]!)"
        }
        return "{" + (shown + (password == nil ? [] : ["password=[hidden]"])).joined(separator: ", ") + "}"
    }

    /// Removes any occurrence of a secret from `message`: libpq or server text
    /// might echo parts of what it was given. Very short secrets are left alone,
    /// as scrubbing them would garble messages and they protect nothing.
    func scrub(_ message: String) -> String {
        var text = message
        for secret in [password?.value, parameters["sslpassword"]] {
            if let secret, secret.count >= 3 { text = text.replacingAll(secret, with: "[hidden]") }
        }
        return text
    }
}

/// Parsing of JDBC and libpq connection URLs into libpq keywords.
enum ConnectionURL {
    struct Parsed {
        var parameters: [String: String] = [:]
        var password: Secret?
        var ignored: [String] = []
    }

    static func parse(_ url: String) throws(PipelineError) -> Parsed {
        let text = String(url.trimmingSpacesCompat)
        if text.hasPrefix("jdbc:postgresql:") {
            return try parseJDBC(String(text.dropFirst("jdbc:postgresql:".count)))
        }
        for scheme in ["postgresql://", "postgres://"] where text.hasPrefix(scheme) {
            return try parseLibpq(String(text.dropFirst(scheme.count)))
        }
        throw PipelineError.config(
            key: "connection.url",
            reason: "expected jdbc:postgresql://host:port/database or postgresql://host:port/database, got '\(ConnectorConfig.redactURL(scrubQuery(text)))'")
    }

    /// `//host:port,host2/db?k=v` or `db?k=v` (JDBC's forms without a host).
    static func parseJDBC(_ rest: String) throws(PipelineError) -> Parsed {
        var parsed = Parsed()
        let (location, query) = split(rest, at: "?")
        var path = location
        if location.hasPrefix("//") {
            let afterSlashes = location.dropFirst(2)
            let (hosts, db) = split(String(afterSlashes), at: "/")
            try applyHosts(hosts, to: &parsed)
            path = db ?? ""
        } else if location.hasPrefix("/") {
            path = String(location.dropFirst())
        }
        if !path.isEmpty { parsed.parameters["dbname"] = try decode(path) }
        for (key, value) in try queryItems(query) {
            try applyJDBC(key, value, to: &parsed)
        }
        return parsed
    }

    /// `[user[:password]@][host][:port][,...][/dbname][?k=v&...]`.
    static func parseLibpq(_ rest: String) throws(PipelineError) -> Parsed {
        var parsed = Parsed()
        let (location, query) = split(rest, at: "?")
        var hostPart = location
        if let at = location.lastIndex(of: "@") {
            let userInfo = String(location[..<at])
            hostPart = String(location[location.index(after: at)...])
            let (user, password) = split(userInfo, at: ":")
            if !user.isEmpty { parsed.parameters["user"] = try decode(user) }
            if let password { parsed.password = Secret(try decode(password)) }
        }
        let (hosts, db) = split(hostPart, at: "/")
        try applyHosts(hosts, to: &parsed)
        if let db, !db.isEmpty { parsed.parameters["dbname"] = try decode(db) }
        for (key, value) in try queryItems(query) {
            if key == "password" {
                parsed.password = Secret(value)
            } else {
                parsed.parameters[key] = value
            }
        }
        return parsed
    }

    /// `host[:port]` items, comma-separated; IPv6 hosts in brackets.
    static func applyHosts(_ text: String, to parsed: inout Parsed) throws(PipelineError) {
        guard !text.isEmpty else { return }
        var hosts: [String] = [], ports: [String] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var host = Substring(item), port = ""
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else {
                    throw PipelineError.config(key: "connection.url", reason: "unterminated IPv6 address '\(item)'")
                }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") { port = String(after.dropFirst()) }
                host = host[host.index(after: host.startIndex)..<close]
            } else if let colon = host.lastIndex(of: ":") {
                port = String(host[host.index(after: colon)...])
                host = host[..<colon]
            }
            guard port.isEmpty || (UInt16(port) != nil) else {
                throw PipelineError.config(key: "connection.url", reason: "invalid port '\(port)'")
            }
            hosts.append(try decode(String(host)))
            ports.append(port)
        }
        if hosts.contains(where: { !$0.isEmpty }) { parsed.parameters["host"] = hosts.joined(separator: ",") }
        if ports.contains(where: { !$0.isEmpty }) { parsed.parameters["port"] = ports.joined(separator: ",") }
    }

    /// Maps one pgJDBC URL parameter to libpq.
    static func applyJDBC(_ key: String, _ value: String, to parsed: inout Parsed) throws(PipelineError) {
        switch key {
        case "user": parsed.parameters["user"] = value
        case "password": parsed.password = Secret(value)
        case "sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword", "options":
            parsed.parameters[key] = value
        case "ssl":
            // pgJDBC: ssl=true without sslmode means verify-full.
            if value.lowercased() == "true" && parsed.parameters["sslmode"] == nil { parsed.parameters["sslmode"] = "verify-full" }
        case "ApplicationName": parsed.parameters["application_name"] = value
        case "connectTimeout", "loginTimeout": parsed.parameters["connect_timeout"] = value
        case "tcpKeepAlive": parsed.parameters["keepalives"] = value.lowercased() == "true" ? "1" : "0"
        case "currentSchema":
            let option = "-c search_path=" + value.replacingAll(",", with: "\\,").replacingAll(" ", with: "\\ ")
            parsed.parameters["options"] = [parsed.parameters["options"], option].compactMap { $0 }.joined(separator: " ")
        case "targetServerType":
            let map = ["any": "any", "primary": "primary", "master": "primary", "secondary": "standby", "slave": "standby",
                       "preferSecondary": "prefer-standby", "preferSlave": "prefer-standby"]
            guard let attrs = map[value] else {
                throw PipelineError.config(key: "connection.url", reason: "unsupported targetServerType '\(value)'")
            }
            parsed.parameters["target_session_attrs"] = attrs
        default:
            parsed.ignored.append(key)
        }
    }

    static func queryItems(_ query: String?) throws(PipelineError) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(String, String)] = []
        for pair in query.split(separator: "&") {
            let (key, value) = split(String(pair), at: "=")
            items.append((try decode(key), try decode(value ?? "")))
        }
        return items
    }

    /// Percent-decoding. The error never shows the text: it may be a password.
    static func decode(_ text: String) throws(PipelineError) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw PipelineError.config(key: "connection.url", reason: "invalid percent-encoding in the URL")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `text` split at the first `separator`; nil second part when absent.
    static func split(_ text: String, at separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }

    /// A URL for an error message: the query string (which may hold a password) dropped.
    static func scrubQuery(_ text: String) -> String {
        split(text, at: "?").0
    }
}

extension String {
    /// Every occurrence of `target` replaced (Foundation-free).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    var trimmingSpacesCompat: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        return self[start...lastIndex(where: { !isSpace($0) })!]
    }
}
