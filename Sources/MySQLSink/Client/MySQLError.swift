import CMySQL
import PipelineCore

/// A failure reported by the server or by Connector/C.
///
/// `context` names what was being done ("connecting to tributary@127.0.0.1:3306/db",
/// "INSERT INTO `db`.`users` ..."); it never contains a value or a password,
/// because values are always bound parameters.
public struct MySQLError: RetriableError, Sendable, CustomStringConvertible {
    /// The server error number (1xxx, 4xxx) or client error (2xxx, `CR_*`).
    public var code: UInt32
    /// The five-character SQLSTATE, e.g. `23000`.
    public var sqlState: String
    /// The server's or library's message.
    public var message: String
    /// What was being done: `connecting to ...` or `in <statement>`.
    public var context: String

    /// An error; `context` must not contain values or secrets.
    public init(code: UInt32, sqlState: String = "HY000", message: String, context: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.context = context
    }

    public var description: String { "MySQL error \(code) (\(sqlState)) \(context): \(message)" }

    /// What a caller should do about an error.
    public enum Kind: Sendable {
        /// The connection is gone; reconnect and redo the transaction.
        case connectionLost
        /// Deadlock or lock wait timeout: the transaction was rolled back; redo it.
        case transient
        /// The row itself is wrong (NULL into NOT NULL, duplicate key, value out
        /// of range, ...): retrying cannot help; the record is poison.
        case data
        /// Anything else (missing table, privileges, syntax).
        case other
    }

    /// The class of this error, by its code.
    public var kind: Kind {
        switch Int32(code) {
        case CR_SERVER_GONE_ERROR, CR_SERVER_LOST, CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, 2055 /* CR_SERVER_LOST_EXTENDED */,
            1053 /* ER_SERVER_SHUTDOWN */, 1927 /* ER_CONNECTION_KILLED */, 1040 /* ER_CON_COUNT_ERROR */:
            return .connectionLost
        case 1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */:
            return .transient
        case 1048, 1062, 1263, 1264, 1265, 1292, 1300, 1364, 1366, 1367, 1406, 1411, 1416, 1451, 1452, 1690, 3819, 4025:
            // bad null, duplicate key, truncation/range/format, invalid utf8, no
            // default, foreign keys, CHECK constraints.
            return .data
        default:
            return .other
        }
    }

    /// True when the error is worth retrying on the same data.
    public var isRetriable: Bool { kind == .connectionLost || kind == .transient }
}
