#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibPQ
import PipelineCore

/// A libpq connection in logical replication mode (`replication=database`)
/// on a dedicated thread: replication commands, then the CopyBoth stream of
/// `START_REPLICATION`. Every libpq call runs on that thread; reading waits
/// on the socket with `poll(2)` there, never on Swift's cooperative pool.
///
/// Keepalives that ask for a reply are answered while reading, with the
/// last flush position given to ``confirm(_:)``: the server never sees a
/// flush position beyond what the broker acknowledged.
final class ReplicationStream: Sendable {
    let settings: ConnectionSettings
    private let worker: BlockingWorker
    private let state = StreamState()
    /// A flush position ``requestConfirm(_:)`` asked for, sent by the
    /// receive in flight between its reads.
    private let requestedFlush = Locked(LSN.zero)
    /// The longest a receive waits on the socket before it looks at
    /// ``requestedFlush`` again: the bound on how late a requested confirm goes out.
    static let confirmCheckInterval = Duration.milliseconds(20)

    init(settings: ConnectionSettings, name: String) {
        var settings = settings
        settings.parameters["replication"] = "database"
        self.settings = settings
        worker = BlockingWorker(name: "pg-replication-\(name)")
    }

    deinit {
        let state = self.state
        worker.shutdown { state.connection = nil }
    }

    /// Connects (one attempt) in replication mode, with the session settings
    /// that make pgoutput's value text what ``PGText`` reads (UTC, ISO, hex bytea).
    func connect() async throws {
        let state = self.state, settings = self.settings
        try await worker.run {
            state.connection = nil
            state.connection = try PGConnection.connect(settings)
            state.streaming = false
        }
    }

    /// Runs a replication command (or simple SQL) and returns its rows as text.
    func command(_ sql: String, operation: String) async throws -> [[String?]] {
        let state = self.state
        return try await worker.run {
            guard let connection = state.connection else { throw PostgresError.connectionLost(operation: operation, reason: "not connected") }
            return try connection.replicationCommand(sql, operation: operation)
        }
    }

    /// `START_REPLICATION SLOT … LOGICAL <from> (proto_version '1', publication_names '…')`:
    /// the connection is in CopyBoth from here on.
    func start(slot: String, from: LSN, publication: String) async throws {
        let state = self.state
        let sql = "START_REPLICATION SLOT \(SQL.quote(slot)) LOGICAL \(from) (proto_version '1', publication_names \(SQL.literal(SQL.quote(publication))))"
        try await worker.run {
            guard let connection = state.connection else { throw PostgresError.connectionLost(operation: "start replication", reason: "not connected") }
            try connection.startCopyBoth(sql, operation: "start replication from slot \(slot)")
            state.streaming = true
            state.confirmed = from
            state.written = from
        }
    }

    /// Reads up to `maxMessages` pgoutput messages, waiting at most `wait`
    /// for the first one (less when some arrive), and hands each to `take`
    /// with `state`, in stream order, here on the stream's thread; a `take`
    /// that returns false ends the read after that message. Keepalives are
    /// answered here. Returns the state and the furthest WAL position the
    /// server reported sending (XLogData or keepalive).
    func receive<State: Sendable>(
        maxMessages: Int, wait: Duration, into state: State,
        _ take: @escaping @Sendable (inout State, LSN, PgOutputMessage) throws -> Bool
    ) async throws -> (state: State, walEnd: LSN) {
        let stream = self.state, requestedFlush = self.requestedFlush
        return try await worker.run {
            guard let connection = stream.connection, stream.streaming else {
                throw PostgresError.connectionLost(operation: "replication", reason: "the stream is not started")
            }
            var state = state
            var walEnd = LSN.zero
            var count = 0
            let deadline = ContinuousClock.now + wait
            reading: while count < maxMessages {
                if count == 0 { try stream.sendConfirm(requestedFlush.value, on: connection) }
                let remaining = deadline - ContinuousClock.now
                // Once something arrived, take only what is already buffered;
                // until then wait in slices, so a requested confirm goes out.
                let timeout = count == 0 ? min(max(.zero, remaining), Self.confirmCheckInterval) : .zero
                guard let bytes = try connection.readCopyData(timeout: timeout) else {
                    if count == 0 && ContinuousClock.now < deadline { continue }
                    break
                }
                switch try ReplicationFrame.decode(bytes) {
                case .xlogData(let start, let end, let data):
                    walEnd = max(walEnd, end)
                    stream.written = max(stream.written, end)
                    let message: PgOutputMessage
                    do {
                        message = try PgOutputMessage.decode(data)
                    } catch let error as PgOutputError {
                        throw PgOutputError(reason: "at LSN \(start): \(error.reason)")
                    }
                    count += 1
                    guard try take(&state, start, message) else { break reading }
                case .keepalive(let end, let replyRequested):
                    walEnd = max(walEnd, end)
                    stream.written = max(stream.written, end)
                    if replyRequested { try connection.sendStatus(written: stream.written, flushed: stream.confirmed) }
                }
            }
            return (state, walEnd)
        }
    }

    /// Sends a standby status update whose flush position is `flushed`: the
    /// slot's `confirmed_flush_lsn` may move there (never backwards).
    /// Waits for a receive in flight: see ``requestConfirm(_:)``.
    func confirm(_ flushed: LSN) async throws {
        let state = self.state, requested = requestedFlush.value
        try await worker.run {
            guard let connection = state.connection, state.streaming else { return }
            try state.sendStatus(flushed: max(flushed, requested), on: connection)
        }
    }

    /// Asks for `flushed` to be confirmed without waiting: the receive in
    /// flight sends it within ``confirmCheckInterval``, or the next receive
    /// or ``confirm(_:)`` does. A commit made while the next batch is being
    /// read then does not hold up the sending of the batch being read.
    func requestConfirm(_ flushed: LSN) {
        requestedFlush.withLock { $0 = max($0, flushed) }
    }

    /// Closes the connection (ending the stream) and stops the thread.
    func close() async {
        let state = self.state
        _ = try? await worker.run { state.connection = nil }
        worker.shutdown()
    }
}

/// The stream's connection and positions; touched only on the stream's
/// worker thread (inside `BlockingWorker.run`), hence the unchecked conformance.
private final class StreamState: @unchecked Sendable {
    var connection: PGConnection?
    var streaming = false
    /// The flush position last confirmed (what keepalive replies carry).
    var confirmed = LSN.zero
    /// The furthest position received.
    var written = LSN.zero

    /// Sends a status update whose flush position is `flushed`, or the one
    /// last sent where that is further (it never moves back).
    func sendStatus(flushed: LSN, on connection: PGConnection) throws {
        confirmed = max(confirmed, flushed)
        written = max(written, confirmed)
        try connection.sendStatus(written: written, flushed: confirmed)
    }

    /// Sends `flushed` as the flush position if it is past the one last sent.
    func sendConfirm(_ flushed: LSN, on connection: PGConnection) throws {
        guard flushed > confirmed else { return }
        try sendStatus(flushed: flushed, on: connection)
    }
}

extension PGConnection {
    /// A replication command through the simple query protocol, rows as text.
    func replicationCommand(_ sql: String, operation: String) throws(PostgresError) -> [[String?]] {
        guard let raw = PQexec(handle, sql) else { throw PostgresError.connectionLost(operation: operation, reason: errorMessage) }
        let result = PGResult(raw)
        let status = PQresultStatus(raw)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(of: result, operation: operation) }
        return result.strings
    }

    /// Sends `sql` (START_REPLICATION) and expects the CopyBoth state.
    func startCopyBoth(_ sql: String, operation: String) throws(PostgresError) {
        guard let raw = PQexec(handle, sql) else { throw PostgresError.connectionLost(operation: operation, reason: errorMessage) }
        let result = PGResult(raw)
        guard PQresultStatus(raw) == PGRES_COPY_BOTH else { throw failure(of: result, operation: operation) }
    }

    /// The next CopyData message, waiting up to `timeout` for the socket; nil when none came.
    func readCopyData(timeout: Duration) throws(PostgresError) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 1)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                return buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
            }
            if length == -1 {
                // The server ended the stream: its final result says why.
                let reason = PQgetResult(handle).map { raw -> String in
                    let result = PGResult(raw)
                    // COMMAND_OK: the server ended COPY itself (it is shutting down).
                    return PQresultStatus(raw) == PGRES_COMMAND_OK ? "it is shutting down" : "\(failure(of: result, operation: "replication"))"
                } ?? errorMessage
                throw PostgresError.connectionLost(operation: "replication", reason: "the server ended the stream: \(reason)")
            }
            if length == -2 { throw PostgresError.connectionLost(operation: "replication", reason: errorMessage) }
            // Nothing buffered: wait for the socket, then read what arrived.
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            let (seconds, attoseconds) = remaining.components
            let millis = Int32(min(1_000, seconds * 1_000 + attoseconds / 1_000_000_000_000_000 + 1))
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, millis) < 0 && errno != EINTR {
                throw PostgresError.connectionLost(operation: "replication", reason: String(cString: strerror(errno)))
            }
            guard PQconsumeInput(handle) == 1 else { throw PostgresError.connectionLost(operation: "replication", reason: errorMessage) }
        }
    }

    /// Sends a standby status update and flushes it out.
    func sendStatus(written: LSN, flushed: LSN) throws(PostgresError) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let micros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec / 1_000) - ReplicationFrame.postgresEpochOffsetMicros
        let frame = ReplicationFrame.statusUpdate(written: written, flushed: flushed, nowMicros: micros)
        let sent = frame.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1, PQflush(handle) == 0 else { throw PostgresError.connectionLost(operation: "standby status update", reason: errorMessage) }
    }

    /// The server's error in `result`, as ``PostgresError/statement(operation:sqlState:message:)``.
    func failure(of result: PGResult, operation: String) -> PostgresError {
        if isBroken { return .connectionLost(operation: operation, reason: errorMessage) }
        let state = PQresultErrorField(result.handle, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "XX000"
        let message = PQresultErrorField(result.handle, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? errorMessage
        return .statement(operation: operation, sqlState: state, message: settings.scrub(message))
    }
}
