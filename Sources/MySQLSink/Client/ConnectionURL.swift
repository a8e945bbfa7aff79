import PipelineCore

extension MySQLConnectionOptions {
    /// Parses a JDBC URL (`jdbc:mysql://host:port/db?user=...&sslMode=REQUIRED`,
    /// also `jdbc:mariadb://`) or a plain URL (`mysql://user:pw@host:port/db`).
    ///
    /// `user` and `password`, when given (Connect's `connection.user` and
    /// `connection.password`), win over credentials in the URL. Recognised
    /// query parameters: TLS (`sslMode`, `useSSL`, `requireSSL`,
    /// `verifyServerCertificate`, `trustServerCertificate`, `sslCa`/`serverSslCert`,
    /// `sslCapath`, `sslCert`, `sslKey`, `enabledSslCipherSuites`,
    /// `enabledTLSProtocols`), `connectTimeout` and `socketTimeout` (ms); JDBC
    /// driver tunings that have no meaning here (`useUnicode`, `serverTimezone`,
    /// `rewriteBatchedStatements`, ...) are accepted and ignored. Any other
    /// parameter is an error rather than silently dropped. Errors never show
    /// the password.
    public init(url: String, user: String? = nil, password: Secret? = nil) throws(PipelineError) {
        let key = "connection.url"
        let shown = ConnectorConfig.redactURL(url)
        var rest = Substring(url.trimmingSpacesAndNewlines)
        for prefix in ["jdbc:mysql://", "jdbc:mariadb://", "mysql://", "mariadb://"] where rest.lowercased().hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            break
        }
        guard rest.count < url.trimmingSpacesAndNewlines.count else {
            throw PipelineError.config(key: key, reason: "'\(shown)' is not a MySQL URL; expected jdbc:mysql://host:port/database or mysql://user:password@host:port/database")
        }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        self.init()
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                self.user = try Self.decode(userInfo[..<colon], key: key)
                self.password = Secret(try Self.decode(userInfo[userInfo.index(after: colon)...], key: key))
            } else {
                self.user = try Self.decode(userInfo, key: key)
            }
        }
        guard !authority.contains(",") else {
            throw PipelineError.config(key: key, reason: "several hosts in '\(shown)': failover and load-balancing URLs are not supported")
        }
        try parseHostPort(authority, key: key, shown: shown)
        self.database = try Self.decode(path, key: key)
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], key: key)
            let value = parts.count > 1 ? try Self.decode(parts[1], key: key) : ""
            try apply(parameter: name, value: value, key: key)
        }
        if let user, !user.isEmpty { self.user = user }
        if let password, !password.value.isEmpty { self.password = password }
    }

    private mutating func parseHostPort(_ authority: Substring, key: String, shown: String) throws(PipelineError) {
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {  // IPv6 literal
            guard let close = authority.firstIndex(of: "]") else {
                throw PipelineError.config(key: key, reason: "unterminated IPv6 address in '\(shown)'")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        if !hostPart.isEmpty { host = String(hostPart) }
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw PipelineError.config(key: key, reason: "invalid port '\(portPart)' in '\(shown)'")
            }
            self.port = port
        }
    }

    /// Driver parameters that tune Connector/J or the MariaDB JDBC driver and
    /// mean nothing to Connector/C with prepared statements and utf8mb4.
    static let ignoredParameters: Set<String> = [
        "useunicode", "characterencoding", "servertimezone", "connectiontimezone", "forceconnectiontimezonetosession",
        "uselegacydatetimecode", "rewritebatchedstatements", "allowpublickeyretrieval", "zerodatetimebehavior",
        "autoreconnect", "useserverprepstmts", "cacheprepstmts", "prepstmtcachesize", "prepstmtcachesqllimit",
        "nullcatalogmeanscurrent", "nulldatabasemeanscurrent", "tinyint1isbit", "useaffectedrows", "usecompression",
        "maxreconnects", "initialtimeout", "useinformationschema", "usejdbccomplianttimezoneshift", "cacheresultsetmetadata",
        "cacheserverconfiguration", "elidesetautocommits", "uselocalsessionstate", "maintaintimestats", "logger",
    ]

    private mutating func apply(parameter name: String, value: String, key: String) throws(PipelineError) {
        let lower = name.lowercased()
        let flag = value.lowercased() == "true" || value == "1"
        switch lower {
        case "user": user = value
        case "password": password = Secret(value)
        case "sslmode", "ssl-mode":
            tls.mode = try Self.tlsMode(value, key: key)
        case "usessl", "ssl", "requiressl":
            if flag, tls.mode == .disabled || tls.mode == .preferred { tls.mode = .required }
            if !flag, lower != "requiressl" { tls.mode = .disabled }
        case "verifyservercertificate":
            if flag { tls.mode = .verifyIdentity } else if tls.mode == .verifyCA || tls.mode == .verifyIdentity { tls.mode = .required }
        case "trustservercertificate":
            if flag, tls.mode == .verifyCA || tls.mode == .verifyIdentity { tls.mode = .required }
        case "sslca", "ssl-ca", "serversslcert": tls.ca = value
        case "sslcapath", "ssl-capath": tls.caPath = value
        case "sslcert", "ssl-cert": tls.cert = value
        case "sslkey", "ssl-key": tls.key = value
        case "enabledsslciphersuites", "sslcipher", "ssl-cipher": tls.cipher = value
        case "enabledtlsprotocols", "enabledsslprotocolsuites", "tlsversions": tls.versions = value
        case "connecttimeout":
            connectTimeoutSeconds = try Self.seconds(fromMilliseconds: value, parameter: name, key: key)
        case "sockettimeout":
            socketTimeoutSeconds = try Self.seconds(fromMilliseconds: value, parameter: name, key: key)
        default:
            guard Self.ignoredParameters.contains(lower) else {
                throw PipelineError.config(key: key, reason: "URL parameter '\(name)' is not supported")
            }
        }
    }

    static func tlsMode(_ value: String, key: String) throws(PipelineError) -> TLSOptions.Mode {
        // Connector/J spells them DISABLED..VERIFY_IDENTITY; the MariaDB JDBC driver
        // disable, trust, verify-ca, verify-full.
        switch value.uppercased().replacingDashes {
        case "DISABLED", "DISABLE": return .disabled
        case "PREFERRED", "PREFER": return .preferred
        case "REQUIRED", "REQUIRE", "TRUST": return .required
        case "VERIFY_CA": return .verifyCA
        case "VERIFY_IDENTITY", "VERIFY_FULL": return .verifyIdentity
        default:
            throw PipelineError.config(key: key, reason: "sslMode '\(value)' is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY")
        }
    }

    static func seconds(fromMilliseconds value: String, parameter: String, key: String) throws(PipelineError) -> Int {
        guard let ms = Int(value), ms >= 0 else {
            throw PipelineError.config(key: key, reason: "URL parameter '\(parameter)' must be milliseconds, got '\(value)'")
        }
        return ms == 0 ? 0 : max(1, (ms + 999) / 1000)
    }

    /// Percent-decoding of URL parts (user names and passwords often need it).
    static func decode(_ text: Substring, key: String) throws(PipelineError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let hi = hexValue(utf8.removeFirst()), let lo = hexValue(utf8.removeFirst()) else {
                throw PipelineError.config(key: key, reason: "bad percent-encoding in the URL")
            }
            bytes.append(hi << 4 | lo)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension String {
    var trimmingSpacesAndNewlines: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }

    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
