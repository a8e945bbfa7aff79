import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP proxy on 127.0.0.1 that misbehaves on purpose.
///
/// It serves one request per connection on its own thread. The first
/// requests follow the plan, one entry each (`nil` passes the request
/// through); after the plan runs out every request is forwarded to the upstream server unchanged (plus
/// `Connection: close`), and the answer is relayed back. Requests are
/// forwarded byte for byte, so SigV4 signatures made for the proxy's
/// address still verify upstream.
final class FaultProxy: @unchecked Sendable {
    // @unchecked: `plan`, `served` and `faulted` are guarded by `lock`;
    // the sockets are used by the proxy thread only.

    enum Fault: Sendable {
        /// 503 with `<Code>ServiceUnavailable</Code>`.
        case serviceUnavailable
        /// 503 with `<Code>SlowDown</Code>`, S3's throttling answer.
        case slowDown
        /// 500 with `<Code>InternalError</Code>`.
        case internalError
        /// Close the connection without answering.
        case drop
        /// Reset the connection (RST) without answering.
        case reset
        /// Forward, but cut the answer off half way.
        case truncate
        /// Say nothing for this long, then close: the client must time out.
        case stall(seconds: Int)
    }

    let port: UInt16
    private let upstreamPort: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var plan: [Fault?]
    /// The fault every request gets once the plan has run out (nil: pass through).
    private var standing: Fault?
    private var stopped = false
    private var served = 0
    private var faulted = 0

    var url: String { "http://127.0.0.1:\(port)" }

    /// Requests seen and faults injected so far.
    var counts: (requests: Int, faults: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (served, faulted)
    }

    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    init(upstream: String, plan: [Fault?]) throws {
        guard let components = URLComponents(string: upstream), let upstreamPort = components.port else {
            throw ProxyError("upstream \(upstream) has no port")
        }
        self.upstreamPort = UInt16(upstreamPort)
        self.plan = plan
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ProxyError("socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw ProxyError("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.name = "fault-proxy"
        thread.start()
    }

    /// From now on (after the plan), every request gets `fault`: an outage
    /// that lasts until it is set back to nil.
    func setStandingFault(_ fault: Fault?) {
        lock.lock()
        standing = fault
        lock.unlock()
    }

    /// Stops accepting; the thread ends within a poll interval.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    deinit { close(listener) }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func serve() {
        while !isStopped {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            Self.setTimeouts(client)
            handle(client)
        }
    }

    private func handle(_ client: Int32) {
        guard let request = Self.readRequest(client) else {
            close(client)
            return
        }
        lock.lock()
        served += 1
        let fault = plan.isEmpty ? standing : plan.removeFirst()
        if fault != nil { faulted += 1 }
        lock.unlock()

        switch fault {
        case .serviceUnavailable:
            Self.answer(client, status: "503 Service Unavailable", code: "ServiceUnavailable")
        case .slowDown:
            Self.answer(client, status: "503 Slow Down", code: "SlowDown")
        case .internalError:
            Self.answer(client, status: "500 Internal Server Error", code: "InternalError")
        case .drop:
            break
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .stall(let seconds):
            sleep(UInt32(seconds))
        case .truncate:
            let response = forward(request)
            Self.writeAll(client, Array(response.prefix(max(1, response.count / 2))))
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case nil:
            Self.writeAll(client, forward(request))
        }
        close(client)
    }

    /// Sends `request` upstream with `Connection: close` and returns the
    /// whole answer, its header block marked `Connection: close` as well.
    private func forward(_ request: [UInt8]) -> [UInt8] {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return [] }
        defer { close(upstream) }
        Self.setTimeouts(upstream)
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return [] }
        Self.writeAll(upstream, Self.withConnectionClose(request))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(upstream, &buffer, buffer.count)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return Self.withConnectionClose(response)
    }

    /// Replaces any `Connection` header of a message's head with `Connection: close`.
    static func withConnectionClose(_ message: [UInt8]) -> [UInt8] {
        guard let end = headEnd(message) else { return message }
        let head = String(decoding: message[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter {
            !$0.lowercased().hasPrefix("connection:")
        }
        lines.append("Connection: close")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + message[(end + 4)...]
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Reads a request head and its Content-Length body.
    static func readRequest(_ socket: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var expected: Int? = nil
        while expected == nil || data.count < expected! {
            let count = read(socket, &buffer, buffer.count)
            if count <= 0 { return nil }
            data += buffer[0..<count]
            if expected == nil, let end = headEnd(data) {
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                let length = head.components(separatedBy: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                expected = end + 4 + (length ?? 0)
            }
        }
        return data
    }

    static func answer(_ socket: Int32, status: String, code: String) {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code>"
            + "<Message>injected by the test proxy</Message><RequestId>FAULT</RequestId></Error>"
        let head = "HTTP/1.1 \(status)\r\nContent-Type: application/xml\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        writeAll(socket, Array((head + body).utf8))
    }

    static func writeAll(_ socket: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func setTimeouts(_ socket: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    struct ProxyError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
