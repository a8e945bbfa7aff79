#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibPQ
import PipelineCore

/// One libpq connection. Not thread-safe: used only on its client's worker
/// thread (see ``PostgresClient``), so every call here may block.
final class PGConnection {
    let handle: OpaquePointer
    let settings: ConnectionSettings
    /// A statement sent with ``sendAhead(_:operation:)`` whose result is not
    /// taken yet; `parked` holds its outcome once another statement had to
    /// read it off the wire.
    private var ahead: (sql: String, operation: String)?
    private var parked: (sql: String, outcome: Result<PGResult, PostgresError>)?

    private init(handle: OpaquePointer, settings: ConnectionSettings) {
        self.handle = handle
        self.settings = settings
    }

    deinit { PQfinish(handle) }

    /// Connects (blocking) and sets the session up so that value text is
    /// stable: UTC time zone, ISO dates, hex bytea, shortest exact floats.
    static func connect(_ settings: ConnectionSettings) throws(PostgresError) -> PGConnection {
        var pairs = settings.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let password = settings.password { pairs.append(("password", password.value)) }
        let handle: OpaquePointer? = withCStrings(pairs.map(\.0)) { keywords in
            withCStrings(pairs.map(\.1)) { values in
                // expand_dbname = 0: a dbname is a name, never a conninfo string.
                PQconnectdbParams(keywords, values, 0)
            }
        }
        guard let handle else { throw PostgresError.connect(target: settings.target, reason: "out of memory") }
        let connection = PGConnection(handle: handle, settings: settings)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError.connect(target: settings.target, reason: connection.errorMessage)
        }
        try connection.execute(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 3",
            operation: "session setup")
        return connection
    }

    /// True when the connection is broken and must be replaced.
    var isBroken: Bool { PQstatus(handle) != CONNECTION_OK }

    /// libpq's last error, trimmed and with any secret removed.
    var errorMessage: String {
        let raw = PQerrorMessage(handle).map { String(cString: $0) } ?? "unknown error"
        return settings.scrub(String(raw.trimmingSpacesCompat))
    }

    /// Runs one parameterized statement (text parameters, text results). `nil` is SQL NULL.
    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = [], operation: String) throws(PostgresError) -> PGResult {
        parkAhead()
        let raw: OpaquePointer? = withOptionalCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try check(raw, operation: operation)
    }

    /// Runs one or more statements without parameters (simple query protocol).
    func execute(_ sql: String, operation: String) throws(PostgresError) {
        parkAhead()
        _ = try check(PQexec(handle, sql), operation: operation)
    }

    /// `COPY ... FROM STDIN` with the rows `fill` writes, chunk by chunk, into
    /// the buffer it is given (return false when done). Returns the rows copied.
    func copyIn(_ sql: String, operation: String, fill: (inout [UInt8]) -> Bool) throws(PostgresError) -> Int64 {
        parkAhead()
        _ = try check(PQexec(handle, sql), operation: operation, expecting: PGRES_COPY_IN)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 18)
        var more = true
        while more {
            buffer.removeAll(keepingCapacity: true)
            more = fill(&buffer)
            if buffer.isEmpty { continue }
            let sent = buffer.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            if sent != 1 { break }  // the final result below carries the reason
        }
        _ = PQputCopyEnd(handle, nil)
        let result = try check(PQgetResult(handle), operation: operation)
        drainResults()
        return result.affectedRows
    }

    /// Sends `sql` (no parameters) without waiting for its result, so the
    /// server runs it while the caller works on the previous result; the
    /// next ``takeAhead(_:)`` of the same text returns it. At most one is ahead.
    func sendAhead(_ sql: String, operation: String) throws(PostgresError) {
        precondition(ahead == nil && parked == nil, "one statement ahead at a time")
        guard PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) == 1 else { throw connectionError(operation: operation) }
        ahead = (sql, operation)
    }

    /// The result of `sql` sent ahead (or its error), or nil when `sql` was not sent ahead.
    func takeAhead(_ sql: String) throws(PostgresError) -> PGResult? {
        parkAhead()
        guard let parked, parked.sql == sql else { return nil }
        self.parked = nil
        return try parked.outcome.get()
    }

    /// Reads the outcome of the statement sent ahead off the wire and keeps
    /// it: a statement in between must not cost the rows a FETCH ahead moved past.
    private func parkAhead() {
        guard let (sql, operation) = ahead else { return }
        ahead = nil
        let raw = PQgetResult(handle)
        drainResults()
        parked = (sql, Result { () throws(PostgresError) in try check(raw, operation: operation) })
    }

    /// Drops a statement sent ahead and its outcome (its transaction is ending).
    private func discardAhead() {
        if ahead != nil {
            drainResults()
        }
        ahead = nil
        parked = nil
    }

    /// Reads and frees what is left of the results of the statement sent last.
    private func drainResults() {
        while let extra = PQgetResult(handle) { PQclear(extra) }
    }

    /// libpq's error when a call failed without a result: a lost connection, or a statement error.
    private func connectionError(operation: String) -> PostgresError {
        if isBroken { return .connectionLost(operation: operation, reason: errorMessage) }
        return .statement(operation: operation, sqlState: "XX000", message: errorMessage)
    }

    /// Wraps `raw`, throwing the server's error (or connection loss) unless its status is as expected.
    private func check(_ raw: OpaquePointer?, operation: String, expecting: ExecStatusType? = nil) throws(PostgresError) -> PGResult {
        guard let raw else { throw connectionError(operation: operation) }
        let result = PGResult(raw)
        let status = PQresultStatus(raw)
        if let expecting {
            if status == expecting { return result }
        } else if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
            return result
        }
        if isBroken { throw PostgresError.connectionLost(operation: operation, reason: errorMessage) }
        let state = PQresultErrorField(raw, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "XX000"
        let primary = PQresultErrorField(raw, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        let detail = PQresultErrorField(raw, Int32(UInt8(ascii: "D"))).map { String(cString: $0) }
        let message = [primary ?? errorMessage, detail].compactMap { $0 }.joined(separator: "; ")
        throw PostgresError.statement(operation: operation, sqlState: state, message: settings.scrub(message))
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map(Optional.some) + [nil], body)
}

/// Calls `body` with an array of C strings in which nil stays NULL.
func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
}

extension PGConnection {
    /// Runs `body` between BEGIN and COMMIT; rolls back when it throws.
    func inTransaction<T>(_ begin: String = "BEGIN", operation: String, _ body: () throws -> T) throws -> T {
        try execute(begin, operation: operation)
        do {
            let value = try body()
            try execute("COMMIT", operation: operation)
            return value
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }

    /// Ends an open or failed transaction; a no-op when idle or broken.
    func rollbackIfNeeded() {
        discardAhead()
        let status = PQtransactionStatus(handle)
        if status == PQTRANS_INTRANS || status == PQTRANS_INERROR {
            PQclear(PQexec(handle, "ROLLBACK"))
        }
    }
}

extension PGResult {
    /// Rows affected by INSERT/UPDATE/DELETE/COPY.
    var affectedRows: Int64 { Int64(String(cString: PQcmdTuples(handle))) ?? 0 }
}
