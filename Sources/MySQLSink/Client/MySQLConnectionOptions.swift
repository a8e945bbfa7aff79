import PipelineCore

/// How to reach a MySQL or MariaDB server: host, credentials, database, TLS.
///
/// Usually built from Kafka Connect's `connection.url`, `connection.user` and
/// `connection.password` with ``init(url:user:password:)``; library users may
/// fill the fields directly.
public struct MySQLConnectionOptions: Sendable, CustomStringConvertible {
    /// Host name or IP address. `localhost` makes libmysqlclient use the Unix
    /// socket; use `127.0.0.1` for TCP.
    public var host: String
    /// TCP port (3306 unless the URL says otherwise).
    public var port: Int
    /// The default database (schema); empty for none.
    public var database: String
    public var user: String
    /// Never printed: `description` leaves it out.
    public var password: Secret
    /// TLS settings, passed through to Connector/C.
    public var tls: TLSOptions
    /// Seconds to wait for the TCP connection and handshake.
    public var connectTimeoutSeconds: Int
    /// Seconds a single read or write on the socket may block (0 = no limit).
    /// Zero by default: a big batch or a long ALTER TABLE must not be cut off.
    public var socketTimeoutSeconds: Int

    /// Options given field by field; see also ``init(url:user:password:)``.
    public init(
        host: String = "127.0.0.1", port: Int = 3306, database: String = "", user: String = "",
        password: Secret = Secret(""), tls: TLSOptions = TLSOptions(), connectTimeoutSeconds: Int = 10,
        socketTimeoutSeconds: Int = 0
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.tls = tls
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.socketTimeoutSeconds = socketTimeoutSeconds
    }

    /// Where the connection goes, without the password: `user@host:port/db`.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(user.isEmpty ? "" : user + "@")\(hostPart):\(port)/\(database)"
    }
}

/// TLS settings, passed through to MariaDB Connector/C.
public struct TLSOptions: Sendable, Hashable {
    /// Connector/J's `sslMode` values.
    public enum Mode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disabled = "DISABLED"
        /// Ask for TLS; Connector/C falls back to plain TCP if the server has none.
        case preferred = "PREFERRED"
        /// TLS without checking the server certificate.
        case required = "REQUIRED"
        /// TLS, server certificate checked against `ca`. Connector/C also
        /// checks the host name here: it has no CA-only check.
        case verifyCA = "VERIFY_CA"
        /// TLS, server certificate and host name checked.
        case verifyIdentity = "VERIFY_IDENTITY"
    }

    /// How strict the TLS requirement is.
    public var mode: Mode
    /// PEM file of trusted CA certificates.
    public var ca: String?
    /// Directory of trusted CA certificates.
    public var caPath: String?
    /// Client certificate and key (PEM) for mutual TLS.
    public var cert: String?
    public var key: String?
    /// Allowed cipher list (OpenSSL syntax).
    public var cipher: String?
    /// Allowed protocol versions, e.g. `TLSv1.2,TLSv1.3`.
    public var versions: String?

    /// TLS settings; `.disabled` (plain TCP) by default, as Connector/C's.
    public init(
        mode: Mode = .disabled, ca: String? = nil, caPath: String? = nil, cert: String? = nil, key: String? = nil,
        cipher: String? = nil, versions: String? = nil
    ) {
        self.mode = mode
        self.ca = ca
        self.caPath = caPath
        self.cert = cert
        self.key = key
        self.cipher = cipher
        self.versions = versions
    }
}
