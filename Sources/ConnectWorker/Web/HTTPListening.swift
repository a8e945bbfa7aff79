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
        let server = HTTPServer(address: address, logger: .disabled, handler: handler)
        let stopping = Locked(false)
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    try await server.waitUntilListening(timeout: 30)
                    var actual = listener
                    if case .ip4(_, let port)? = await server.listeningAddress { actual.port = port }
                    listening(actual)
                    try await group.next()
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                Task { await server.stop(timeout: 3) }
            }
        } catch where stopping.value {
            // Stopping the server ends its `run()` with CancellationError or
            // SocketError.disconnected, depending on the race: the graceful path.
            logger.debug("HTTP server stopped", metadata: ["error": "\(error)"])
        }
    }
}
