import PipelineCore
/// Failures of the Postgres stage. Messages name the server, table, column or
/// statement at fault and never contain a password.
public enum PostgresError: RetriableError, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect to `target` (`host:port/db as user`).
    case connect(target: String, reason: String)
    /// The connection broke during `operation`; retried with backoff.
    case connectionLost(operation: String, reason: String)
    /// The server rejected a statement. `sqlState` is the five-character SQLSTATE.
    case statement(operation: String, sqlState: String, message: String)
    /// A value could not be converted to its Connect type.
    case conversion(table: String, column: String, reason: String)
    /// The configuration does not fit the database (missing table or column, nullable column...).
    case schema(table: String, reason: String)

    /// True for faults that may go away on their own: connection loss, server
    /// shutdown or restart, too many connections, serialization failures, deadlocks.
    public var isRetriable: Bool {
        switch self {
        case .connect, .connectionLost: return true
        case .statement(_, let state, _):
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" || state == "40001" || state == "40P01"
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .connect(let target, let reason): return "cannot connect to PostgreSQL at \(target): \(reason)"
        case .connectionLost(let operation, let reason): return "PostgreSQL connection lost during \(operation): \(reason)"
        case .statement(let operation, let state, let message): return "PostgreSQL \(operation) failed (SQLSTATE \(state)): \(message)"
        case .conversion(let table, let column, let reason): return "cannot convert \(table).\(column): \(reason)"
        case .schema(let table, let reason): return "table \(table): \(reason)"
        }
    }
}
