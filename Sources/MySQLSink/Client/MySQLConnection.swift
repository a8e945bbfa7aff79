import Logging
import PipelineCore

/// How hard to try (re)connecting: Connect JDBC's `connection.attempts` and
/// `connection.backoff.ms`. `attempts` bounds only the first connection (a
/// wrong host fails fast at startup); a server lost later is waited for as
/// long as it is away. The wait doubles from `initialBackoff` up to
/// `maxBackoff`, and never beyond ``Backoff/outage``'s 2 s, so work resumes
/// soon after the server is back.
public struct ReconnectPolicy: Sendable {
    /// Attempts of the first connect (at least 1).
    public var attempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration

    /// A policy; `attempts` below 1 count as 1.
    public init(attempts: Int = 3, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(10)) {
        self.attempts = max(1, attempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The backoff between connection attempts.
    var backoff: Backoff {
        var backoff = Backoff.outage(cappedAt: maxBackoff)
        let (seconds, attoseconds) = initialBackoff.components
        backoff.initialMilliseconds = max(1, min(backoff.maximumMilliseconds, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)))
        return backoff
    }
}

/// An async, `Sendable` MySQL connection.
///
/// libmysqlclient blocks, so every call runs on this connection's own thread;
/// callers on the cooperative pool only await. A lost connection
/// (`CR_SERVER_GONE_ERROR`, `CR_SERVER_LOST`) is reopened on the next call,
/// with capped exponential backoff; single statements are retried once after
/// a reconnect, transactions are not (the caller decides, because a COMMIT cut
/// off by a lost connection may or may not have happened).
public final class MySQLConnection: Sendable {
    /// Where the connection goes.
    public let options: MySQLConnectionOptions
    /// How (re)connecting is retried.
    public let reconnectPolicy: ReconnectPolicy
    private let worker: BlockingWorker
    private let box: SessionBox
    private let logger: Logger
    /// Whether a connection was ever opened (see `ensureConnected`).
    private let everConnected = Locked(false)

    /// A connection that opens on first use, with its own thread.
    public init(options: MySQLConnectionOptions, reconnectPolicy: ReconnectPolicy = ReconnectPolicy(), logger: Logger = Logger(label: "tributary.mysql")) {
        self.options = options
        self.reconnectPolicy = reconnectPolicy
        self.logger = logger
        self.worker = BlockingWorker(name: "mysql \(options.host):\(options.port)")
        self.box = SessionBox(MySQLSession(options: options))
    }

    // The worker's thread keeps the worker alive until it is shut down.
    deinit { worker.shutdown() }

    /// Opens the connection now rather than on first use.
    public func connect() async throws {
        try await ensureConnected()
    }

    /// Closes the connection and stops its thread. The object is unusable afterwards.
    public func close() async {
        let box = box
        _ = try? await worker.run { box.session.disconnect() }
        worker.shutdown()
    }

    /// Runs one statement (prepared, with `parameters` bound; or over the text
    /// protocol when there are none) and returns the affected row count.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) async throws -> UInt64 {
        try await withSession(retryingOnLostConnection: true) { session in
            parameters.isEmpty ? try session.execute(sql) : try session.execute(sql, parameters)
        }
    }

    /// Runs a query and returns its rows as text (nil for NULL).
    public func query(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [[String?]] {
        try await withSession(retryingOnLostConnection: true) { session in try session.query(sql, parameters) }
    }

    /// Runs `body` inside `START TRANSACTION` ... `COMMIT` on the connection's
    /// thread; any error rolls back and is rethrown. `body` must not perform
    /// DDL: MySQL commits implicitly before a CREATE or ALTER.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (MySQLSession) throws -> T) async throws -> T {
        try await ensureConnected()
        let box = box
        let run: @Sendable () throws -> T = {
            let session = box.session
            do throws(MySQLError) {
                try session.execute("START TRANSACTION")
            } catch {
                throw NotStarted(error: error)
            }
            do {
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                if session.isConnected { _ = try? session.execute("ROLLBACK") }
                throw error
            }
        }
        do {
            return try await worker.run(run)
        } catch let notStarted as NotStarted {
            guard notStarted.error.kind == .connectionLost else { throw notStarted.error }
            // The connection died while idle (server restart, wait_timeout):
            // nothing of this transaction ran, so it is safe to start over.
            try await ensureConnected()
            do {
                return try await worker.run(run)
            } catch let again as NotStarted {
                throw again.error
            }
        }
    }

    /// START TRANSACTION itself failed: nothing of the transaction ran.
    private struct NotStarted: Error {
        let error: MySQLError
    }

    /// Runs `body` with the session on the connection's thread, connecting first.
    public func withSession<T: Sendable>(
        retryingOnLostConnection retry: Bool = false, _ body: @escaping @Sendable (MySQLSession) throws -> T
    ) async throws -> T {
        try await ensureConnected()
        let box = box
        do {
            return try await worker.run { try body(box.session) }
        } catch let error as MySQLError where retry && error.kind == .connectionLost {
            logger.warning("MySQL connection lost, reconnecting", metadata: ["error": "\(error)"])
            try await ensureConnected()
            return try await worker.run { try body(box.session) }
        }
    }

    /// Connects if there is no open connection, retrying connection failures
    /// (not authentication or unknown-database errors) with ``Backoff/outage``
    /// capped by the policy's `maxBackoff`. Until the first connection
    /// succeeds, `attempts` bounds the tries, so a wrong host fails fast at
    /// startup; once connected, a lost server (a restart, a failover) is
    /// waited for however long it is away.
    private func ensureConnected() async throws {
        let box = box
        let everConnected = self.everConnected
        var retry = RetryLoop(
            waitingFor: "MySQL at \(options.host):\(options.port)", logger: logger,
            backoff: reconnectPolicy.backoff)
        while true {
            do {
                try await worker.run {
                    if !box.session.isConnected { try box.session.connect() }
                }
                everConnected.withLock { $0 = true }
                retry.succeeded()
                return
            } catch let error as MySQLError
                where error.kind == .connectionLost && (everConnected.value || retry.attempts + 1 < reconnectPolicy.attempts)
            {
                try await retry.failed(error)
            }
        }
    }
}

/// Holds the session so `Sendable` closures can carry it to the worker thread.
/// @unchecked: the session is only ever used on that one thread.
final class SessionBox: @unchecked Sendable {
    let session: MySQLSession
    init(_ session: MySQLSession) { self.session = session }
}
