import Logging
import PipelineCore

/// An async PostgreSQL client: one libpq connection, used only on one
/// dedicated thread, so blocking libpq calls never run on Swift's cooperative
/// pool. Calls run one at a time, in order.
///
/// A broken connection is dropped and replaced on the next call; ``retrying(_:policy:_:)``
/// adds capped exponential backoff around retriable failures.
public final class PostgresClient: Sendable {
    public let settings: ConnectionSettings
    let name: String
    let logger: Logger
    private let worker: BlockingWorker
    private let slot = ConnectionSlot()

    /// Creates the client; nothing connects until the first call or ``connect(policy:)``.
    public init(settings: ConnectionSettings, name: String = "postgres", logger: Logger = Logger(label: "tributary.postgres")) {
        self.settings = settings
        self.name = name
        self.logger = logger
        self.worker = BlockingWorker(name: "pg-\(name)")
    }

    deinit {
        // PQfinish (in PGConnection's deinit) sends a goodbye to the server:
        // on the worker thread, not on the thread releasing the client.
        let slot = self.slot
        worker.shutdown { slot.connection = nil }
    }

    /// Connects now, trying up to `policy.maxAttempts` times (Connect's
    /// `connection.attempts` / `connection.backoff.ms`).
    public func connect(policy: RetryPolicy = .connect) async throws {
        try await retrying("connect", policy: policy) { _ in () }
    }

    /// Runs `body` with a live connection on the worker thread.
    ///
    /// Connects first when there is no connection (one attempt). When `body`
    /// fails and the connection is broken, the connection is dropped so the
    /// next call reconnects, and the error is ``PostgresError/connectionLost(operation:reason:)``.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let slot = self.slot, settings = self.settings
        return try await worker.run {
            let connection: PGConnection
            if let existing = slot.connection, !existing.isBroken {
                connection = existing
            } else {
                slot.connection = nil
                connection = try PGConnection.connect(settings)
                slot.connection = connection
            }
            do {
                return try body(connection)
            } catch {
                if connection.isBroken {
                    slot.connection = nil
                    if case PostgresError.connectionLost = error { throw error }
                    throw PostgresError.connectionLost(operation: "query", reason: connection.errorMessage)
                }
                throw error
            }
        }
    }

    /// Runs `body`, retrying retriable failures (connection refused or lost,
    /// server restart) with capped exponential backoff. `body` must be safe to
    /// repeat; it gets the attempt number (0 first).
    public func retrying<T: Sendable>(
        _ operation: String, policy: RetryPolicy, _ body: @escaping @Sendable (Int) async throws -> T
    ) async throws -> T {
        var retry = RetryLoop(waitingFor: "PostgreSQL (\(operation))", logger: logger, backoff: policy.backoff)
        while true {
            do {
                _ = try await withConnection { _ in () }
                let result = try await body(retry.attempts)
                retry.succeeded()
                return result
            } catch let error as PostgresError where error.isRetriable {
                guard policy.allowsAttempt(after: retry.attempts + 1) else { throw error }
                try await retry.failed(error)
            }
        }
    }

    /// Runs one statement and returns every row as text (for small results).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = [], operation: String = "query") async throws -> [[String?]] {
        try await withConnection { try $0.query(sql, parameters, operation: operation).strings }
    }

    /// Closes the connection and stops the thread.
    public func close() async {
        let slot = self.slot
        _ = try? await worker.run { slot.connection = nil }
        worker.shutdown()
    }
}

extension RetryPolicy {
    /// Connect's JDBC defaults: 3 attempts, 10 s apart at most.
    public static let connect = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(500), maxDelay: .seconds(10))
}

/// The connection of a client. Read and written only on the client's worker
/// thread (every access is inside `BlockingWorker.run`), hence the unchecked conformance.
private final class ConnectionSlot: @unchecked Sendable {
    var connection: PGConnection?
}
