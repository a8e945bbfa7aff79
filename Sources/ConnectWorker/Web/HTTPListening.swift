import FlyingFox
import FlyingSocks
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import PipelineCore
import ServiceLifecycle

/// Serves HTTP with FlyingFox on a listener until a graceful shutdown.
enum HTTPListening {
    /// Runs `handler` on `listener` until the service group shuts down
    /// gracefully (then returns) or the server fails (then throws);
    /// `listening` gets the address actually bound (port 0 picks one).
    static func serve(
        _ listener: Listener, handler: some HTTPHandler, logger: Logger, listening: @escaping @Sendable (Listener) -> Void
    ) async throws {
        let address: sockaddr_in
        do {
            address = try .inet(ip4: listener.host, port: listener.port)
        } catch {
            throw PipelineError.config(key: "listeners", reason: "cannot listen on \(listener): \(error)")
        }
        try await serve(address: address, handler: handler, logger: logger) { server in
            var actual = listener
            if case .ip4(_, let port)? = await server.listeningAddress { actual.port = port }
            listening(actual)
        }
    }

    /// The serving loop for any socket address (https serves on a Unix
    /// socket behind its TLS terminator): `started` runs once the server
    /// listens, `stopping` first thing on a graceful shutdown.
    static func serve(
        address: some SocketAddress, handler: some HTTPHandler, logger: Logger,
        stopping onStop: @escaping @Sendable () -> Void = {}, started: @escaping @Sendable (HTTPServer) async -> Void
    ) async throws {
        let inFlight = Locked(0)
        let server = HTTPServer(address: address, logger: .disabled, handler: CountingHandler(inner: handler, inFlight: inFlight))
        let stopping = Locked(false)
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    try await server.waitUntilListening(timeout: 30)
                    await started(server)
                    try await group.next()
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                onStop()
                Task {
                    // Requests being answered get up to 3 s. FlyingFox's own stop
                    // always waits out its whole timeout (its accept loop is not
                    // woken by the closed socket), so the wait is done here and
                    // the stop itself only leaves the last responses time to go out.
                    let deadline = ContinuousClock.now + .seconds(3)
                    while inFlight.value > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
                    await server.stop(timeout: 0.1)
                }
            }
        } catch where stopping.value {
            // Stopping the server ends its `run()` with CancellationError or
            // SocketError.disconnected, depending on the race: the graceful path.
            logger.debug("HTTP server stopped", metadata: ["error": "\(error)"])
        }
    }
}

/// Counts the requests being answered, so a graceful stop waits for them and no longer.
private struct CountingHandler<Inner: HTTPHandler>: HTTPHandler {
    let inner: Inner
    let inFlight: Locked<Int>

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        inFlight.withLock { $0 += 1 }
        defer { inFlight.withLock { $0 -= 1 } }
        return try await inner.handleRequest(request)
    }
}
