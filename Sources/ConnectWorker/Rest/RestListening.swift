import FlyingFox
import FlyingSocks
import Foundation
import Logging
import PipelineCore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Serves the REST API on its listener: plain HTTP through
/// ``HTTPListening``; https through a ``TLSTerminator`` on the listener's
/// address in front of the same server on a private Unix socket.
enum RestListening {
    /// Runs until a graceful shutdown (returns) or a failure (throws);
    /// `listening` gets the address actually bound.
    static func serve(
        _ listener: Listener, tls: TLSSettings?, handler: some HTTPHandler, logger: Logger,
        listening: @escaping @Sendable (Listener) -> Void
    ) async throws {
        guard listener.secure else {
            try await HTTPListening.serve(listener, handler: handler, logger: logger, listening: listening)
            return
        }
        guard let tls else {
            throw PipelineError.config(
                key: TLSSettings.keystoreKey, reason: "the listener \(listener) needs a PEM certificate chain and key; set \(TLSSettings.keystoreKey)")
        }
        let directory = try privateDirectory()
        let socketPath = directory + "/rest.sock"
        defer {
            unlink(socketPath)
            rmdir(directory)
        }
        let terminator = try TLSTerminator(settings: tls, listener: listener, upstream: socketPath, logger: logger)
        defer { terminator.stop() }
        try await HTTPListening.serve(
            address: sockaddr_un.unix(path: socketPath), handler: handler, logger: logger, stopping: { terminator.stop() }
        ) { _ in
            terminator.start()
            var actual = listener
            actual.port = terminator.port
            listening(actual)
        }
    }

    /// A new directory only this user can enter (mkdtemp makes it 0700),
    /// so no other local user can reach the REST server's Unix socket.
    private static func privateDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "tributary-https-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PipelineError.other("https listener: cannot create a private directory: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
