import CMySQL

/// One libmysqlclient connection, used synchronously.
///
/// Every call blocks, so a session lives on one dedicated thread (see
/// ``MySQLConnection``, which owns one and runs each request on its worker)
/// and is never shared between threads at the same time. It is handed to
/// transaction bodies, which run on that thread.
public final class MySQLSession {
    /// Where the session connects.
    public let options: MySQLConnectionOptions
    private var handle: UnsafeMutablePointer<MYSQL>?
    /// Prepared statements by SQL text. Statement handles belong to the
    /// connection that prepared them and die with it.
    private var statements: [String: UnsafeMutablePointer<MYSQL_STMT>] = [:]
    private static let statementCacheLimit = 128
    /// Serves `LOAD DATA LOCAL INFILE` from memory (see ``loadData(_:data:)``).
    let infile = LocalInfile()
    /// Set once the server refused `LOAD DATA LOCAL` (`local_infile=OFF`,
    /// MySQL 8's default): the writer then goes straight to prepared INSERTs
    /// instead of paying for a refused statement in every batch.
    var loadDataRefused = false

    /// libmysqlclient's global initialisation is not thread-safe; do it once.
    private static let libraryReady: Bool = mysql_server_init(0, nil, nil) == 0

    /// A session, not yet connected.
    public init(options: MySQLConnectionOptions) {
        self.options = options
    }

    deinit { disconnect() }

    /// True while a connection is open (it may still turn out to be dead).
    public var isConnected: Bool { handle != nil }

    /// Opens the connection (closing any previous one).
    public func connect() throws(MySQLError) {
        disconnect()
        let context = "connecting to \(options)"
        guard Self.libraryReady, let mysql = mysql_init(nil) else {
            throw MySQLError(code: UInt32(CR_OUT_OF_MEMORY), message: "mysql_init failed", context: context)
        }
        configure(mysql)
        let port = UInt32(options.port)
        let db = options.database.isEmpty ? nil : options.database
        let user = options.user.isEmpty ? nil : options.user
        // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, not only
        // those whose values changed, so update mode can tell "no such row".
        let connected = mysql_real_connect(
            mysql, options.host, user, options.password.value, db, port, nil, UInt(CLIENT_FOUND_ROWS))
        guard connected != nil else {
            let error = Self.error(of: mysql, context: context)
            mysql_close(mysql)
            throw error
        }
        let tlsMode = options.tls.mode
        if tlsMode != .disabled && tlsMode != .preferred && mysql_get_ssl_cipher(mysql) == nil {
            // Connector/C only refuses a server without TLS when it verifies the
            // certificate; REQUIRED must refuse too, so check what we got.
            mysql_close(mysql)
            throw MySQLError(
                code: 2026, message: "TLS/SSL error: sslMode \(tlsMode.rawValue) but the server does not support TLS",
                context: context)
        }
        handle = mysql
        infile.install(on: mysql)
        // Strict mode for every table: NULL into NOT NULL or an out-of-range
        // value must fail (and become a dead-letter record), never be silently
        // coerced. UTC, so NOW()-style defaults match the UTC DATETIMEs we bind.
        try execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), time_zone = '+00:00'")
    }

    private func configure(_ mysql: UnsafeMutablePointer<MYSQL>) {
        var connectTimeout = UInt32(clamping: options.connectTimeoutSeconds)
        mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout)
        if options.socketTimeoutSeconds > 0 {
            var timeout = UInt32(clamping: options.socketTimeoutSeconds)
            mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &timeout)
            mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &timeout)
        }
        // Never let the library reconnect behind our back: a silent reconnect
        // in the middle of a transaction would commit half of it.
        var reconnect: my_bool = 0
        mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect)
        mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        // LOAD DATA LOCAL, served only from memory by `infile`'s handler.
        var localInfile: UInt32 = 1
        mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &localInfile)
        let tls = options.tls
        guard tls.mode != .disabled else { return }
        mysql_ssl_set(mysql, tls.key, tls.cert, tls.ca, tls.caPath, tls.cipher)
        if let versions = tls.versions { mysql_options(mysql, MARIADB_OPT_TLS_VERSION, versions) }
        var enforce: my_bool = tls.mode == .preferred ? 0 : 1
        mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &enforce)
        var verify: my_bool = tls.mode == .verifyCA || tls.mode == .verifyIdentity ? 1 : 0
        mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify)
    }

    /// Closes the connection and every prepared statement.
    public func disconnect() {
        for stmt in statements.values { mysql_stmt_close(stmt) }
        statements.removeAll()
        if let handle { mysql_close(handle) }
        handle = nil
    }

    /// The open handle, or a "server gone" error so callers reconnect.
    func connection(context: String) throws(MySQLError) -> UnsafeMutablePointer<MYSQL> {
        guard let handle else {
            throw MySQLError(code: UInt32(CR_SERVER_GONE_ERROR), message: "not connected", context: context)
        }
        return handle
    }

    /// Runs SQL without parameters (DDL, transaction control) over the text
    /// protocol. Returns the affected row count.
    @discardableResult
    public func execute(_ sql: String) throws(MySQLError) -> UInt64 {
        let context = Self.summary(of: sql)
        let mysql = try connection(context: context)
        let status = sql.utf8CString.withUnsafeBufferPointer { mysql_real_query(mysql, $0.baseAddress, UInt($0.count - 1)) }
        guard status == 0 else { throw failure(Self.error(of: mysql, context: context)) }
        // Drain a result set if the statement produced one (e.g. a stray SELECT).
        if let result = mysql_store_result(mysql) { mysql_free_result(result) }
        return mysql_affected_rows(mysql)
    }

    /// Runs a prepared statement with `parameters` bound to its placeholders.
    /// Returns the affected row count.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue]) throws(MySQLError) -> UInt64 {
        try withPrepared(sql) { stmt, context throws(MySQLError) in
            try bindAndExecute(stmt, parameters, context: context)
            return mysql_stmt_affected_rows(stmt)
        }
    }

    /// Runs a prepared query and returns every row, each column as text
    /// (nil for NULL). Meant for small results: metadata and offsets.
    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws(MySQLError) -> [[String?]] {
        try withPrepared(sql) { stmt, context throws(MySQLError) in
            try bindAndExecute(stmt, parameters, context: context)
            return try ResultReader.readAll(stmt, context: context) { [unowned self] error in self.failure(error) }
        }
    }

    /// Runs `body` with the cached prepared statement for `sql`; re-prepares
    /// once when the server says the statement's tables changed underneath.
    private func withPrepared<T>(
        _ sql: String, _ body: (UnsafeMutablePointer<MYSQL_STMT>, String) throws(MySQLError) -> T
    ) throws(MySQLError) -> T {
        let context = Self.summary(of: sql)
        do {
            return try body(try prepared(sql, context: context), context)
        } catch let error where error.code == 1615 /* ER_NEED_REPREPARE */ {
            forget(sql)
            return try body(try prepared(sql, context: context), context)
        }
    }

    private func prepared(_ sql: String, context: String) throws(MySQLError) -> UnsafeMutablePointer<MYSQL_STMT> {
        if let stmt = statements[sql] { return stmt }
        let mysql = try connection(context: context)
        guard let stmt = mysql_stmt_init(mysql) else { throw failure(Self.error(of: mysql, context: context)) }
        let status = sql.utf8CString.withUnsafeBufferPointer { mysql_stmt_prepare(stmt, $0.baseAddress, UInt($0.count - 1)) }
        guard status == 0 else {
            let error = Self.error(of: stmt, context: context)
            mysql_stmt_close(stmt)
            throw failure(error)
        }
        if statements.count >= Self.statementCacheLimit {
            for old in statements.values { mysql_stmt_close(old) }
            statements.removeAll()
        }
        statements[sql] = stmt
        return stmt
    }

    private func forget(_ sql: String) {
        if let stmt = statements.removeValue(forKey: sql) { mysql_stmt_close(stmt) }
    }

    private func bindAndExecute(
        _ stmt: UnsafeMutablePointer<MYSQL_STMT>, _ parameters: [SQLValue], context: String
    ) throws(MySQLError) {
        let expected = Int(mysql_stmt_param_count(stmt))
        guard expected == parameters.count else {
            throw MySQLError(code: UInt32(CR_INVALID_PARAMETER_NO), message: "statement has \(expected) placeholders but \(parameters.count) values were given", context: context)
        }
        // A value the C client would clamp is refused as a data error (1292,
        // "incorrect datetime value"), never stored as something else.
        if let reason = parameters.lazy.compactMap(\.outOfRangeReason).first {
            throw MySQLError(code: 1292, sqlState: "22007", message: reason, context: context)
        }
        let buffer = ParameterBuffer(parameters)
        if !parameters.isEmpty {
            let failed = buffer.withBinds { mysql_stmt_bind_param(stmt, $0) != 0 }
            if failed { throw failure(Self.error(of: stmt, context: context)) }
        }
        let status = mysql_stmt_execute(stmt)
        // The bound memory must stay valid until execute has sent it.
        withExtendedLifetime(buffer) {}
        guard status == 0 else { throw failure(Self.error(of: stmt, context: context)) }
    }

    /// Drops the handle when the connection is gone, so the next call
    /// reconnects instead of failing forever; returns the error to throw.
    func failure(_ error: MySQLError) -> MySQLError {
        if error.kind == .connectionLost && error.code != 1040 { disconnect() }
        return error
    }

    // MARK: - Errors

    static func error(of mysql: UnsafeMutablePointer<MYSQL>, context: String) -> MySQLError {
        MySQLError(
            code: mysql_errno(mysql), sqlState: String(cString: mysql_sqlstate(mysql)),
            message: String(cString: mysql_error(mysql)), context: context)
    }

    static func error(of stmt: UnsafeMutablePointer<MYSQL_STMT>, context: String) -> MySQLError {
        MySQLError(
            code: mysql_stmt_errno(stmt), sqlState: String(cString: mysql_stmt_sqlstate(stmt)),
            message: String(cString: mysql_stmt_error(stmt)), context: context)
    }

    /// The start of a statement, for error messages. Statements hold only
    /// identifiers and placeholders, never values, so this is safe to show.
    static func summary(of sql: String) -> String {
        let limit = 160
        return sql.count <= limit ? "in \(sql)" : "in \(sql.prefix(limit))..."
    }
}
