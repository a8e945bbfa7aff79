import CSSL
import Foundation
import Logging
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The https listener. FlyingFox has no TLS on Linux and its sockets take
/// no TLS layer, so TLS ends here: this accepts TCP connections on the
/// listener's address, runs the handshake and the record layer with
/// OpenSSL, and relays the plain bytes to the REST server, which listens on
/// a Unix socket in a directory only this user can enter. Nothing else
/// reaches that socket, and nothing on the network is ever in clear.
///
/// OpenSSL's calls block, so each connection has a thread of its own (at
/// most ``maxConnections``; more are closed at once), and accepting has one
/// too: nothing here runs on Swift's cooperative pool.
final class TLSTerminator: @unchecked Sendable {
    // @unchecked: the descriptors and the context are set once in init; `stopped` is locked.
    static let maxConnections = 64
    /// A connection idle this long is closed; a handshake gets `handshakeSeconds`.
    static let idleSeconds: Int32 = 60
    static let handshakeSeconds = 10

    let port: UInt16
    private let context: OpaquePointer
    private let listening: Int32
    private let upstream: String
    private let logger: Logger
    private let stopped = Locked(false)
    /// Connections being served now.
    private let connections = Locked(0)

    /// Binds `listener`'s address (port 0 picks one) with `settings`' certificate;
    /// connections go to the Unix socket at `upstream`.
    init(settings: TLSSettings, listener: Listener, upstream: String, logger: Logger) throws {
        context = try settings.makeContext()
        do {
            (listening, port) = try Self.listen(listener)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.upstream = upstream
        self.logger = logger
    }

    deinit { SSL_CTX_free(context) }

    /// Starts accepting on a thread of its own.
    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "https-accept"
        thread.start()
    }

    /// Stops accepting (within 200 ms); open connections end when the server closes them.
    func stop() {
        stopped.withLock { $0 = true }
    }

    private func acceptLoop() {
        defer { close(listening) }
        while !stopped.value {
            var waiting = pollfd(fd: listening, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 200) > 0 else { continue }
            let client = accept(listening, nil, nil)
            guard client >= 0 else { continue }
            let admitted = connections.withLock { count in
                guard count < Self.maxConnections else { return false }
                count += 1
                return true
            }
            guard admitted else {
                logger.warning("https listener: \(Self.maxConnections) connections open; refusing another")
                close(client)
                continue
            }
            let thread = Thread { [self] in
                serve(client)
                connections.withLock { $0 -= 1 }
            }
            thread.name = "https-connection"
            thread.stackSize = 1 << 19
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        // A peer that went away makes a write fail with EPIPE on this thread, not end the process.
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
        defer { close(client) }
        Self.setTimeouts(client, seconds: Self.handshakeSeconds)
        guard let ssl = SSL_new(context) else { return }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, client)
        guard SSL_accept(ssl) == 1 else {
            // A port scan or a client that does not trust the certificate: nothing to act on.
            logger.debug("https listener: TLS handshake failed: \(TLSSettings.opensslErrors())")
            return
        }
        Self.setTimeouts(client, seconds: Int(Self.idleSeconds))
        let server = Self.connectUnix(upstream)
        guard server >= 0 else {
            logger.error("https listener: cannot reach the REST server at \(upstream): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(server) }
        relay(ssl, client: client, server: server)
        SSL_shutdown(ssl)
    }

    /// Copies decrypted bytes to the server and the server's bytes back
    /// encrypted, until the server closes, the client closes and the server
    /// answered, or the connection idles out.
    private func relay(_ ssl: OpaquePointer, client: Int32, server: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var clientOpen = true
        while true {
            var ready = [
                pollfd(fd: client, events: clientOpen ? Int16(POLLIN) : 0, revents: 0),
                pollfd(fd: server, events: Int16(POLLIN), revents: 0),
            ]
            // Bytes OpenSSL already decrypted do not show in poll.
            let buffered = clientOpen && SSL_pending(ssl) > 0
            if !buffered {
                let n = poll(&ready, 2, Self.idleSeconds * 1000)
                if n == 0 { return }
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
            }
            if buffered || ready[0].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
                if count > 0 {
                    guard Self.writeAll(server, buffer, Int(count)) else { return }
                } else {
                    // The client is done sending (or gone): let the server finish its answer.
                    clientOpen = false
                    shutdown(server, Int32(SHUT_WR))
                }
            }
            if ready[1].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                let written = buffer.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(count)) }
                guard written == Int32(count) else { return }
            }
        }
    }
}
