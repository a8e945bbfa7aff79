import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The private MariaDB server that `scripts/services.sh` started under
/// `TRIBUTARY_STATE_DIR`, stopped and started again with the same command
/// line, data directory and port: a server restart as an operator does one.
enum MariaDBServer {
    /// Stops the server, waits `downtime`, and starts it again; the server
    /// is started again whatever happens in between (the other tests need it).
    static func restart(down downtime: Duration) async throws {
        guard let state = ProcessInfo.processInfo.environment["TRIBUTARY_STATE_DIR"], !state.isEmpty else {
            throw TestEnvironmentError("TRIBUTARY_STATE_DIR is not set; source the env file scripts/services.sh writes")
        }
        let pidFile = state + "/mysql.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestEnvironmentError("no MariaDB pid in \(pidFile)") }
        let commandLine = try commandLine(of: pid)
        guard commandLine.first?.hasSuffix("mariadbd") == true else {
            throw TestEnvironmentError("process \(pid) of \(pidFile) is not mariadbd: \(commandLine)")
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while isAlive(pid) && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if isAlive(pid) { kill(pid, SIGKILL) }
        try? await Task.sleep(for: downtime)
        try await start(commandLine, pidFile: pidFile)
    }

    private static func start(_ commandLine: [String], pidFile: String) async throws {
        let process = Process()
        // setsid: the server must not share the test's process group (a Ctrl-C
        // of the test run must not take it down with it).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = commandLine
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = commandLine.first(where: { $0.hasPrefix("--port=") }).flatMap({ UInt16($0.dropFirst(7)) }) else {
            throw TestEnvironmentError("no --port in \(commandLine)")
        }
        let deadline = Date().addingTimeInterval(30)
        while !acceptsConnections(port: port) {
            guard Date() < deadline else { throw TestEnvironmentError("MariaDB did not come back on port \(port)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        // services.sh finds the server (and stops it) through this file.
        let serverPidFile = commandLine.first(where: { $0.hasPrefix("--pid-file=") }).map { String($0.dropFirst(11)) }
        if let serverPidFile, let pid = try? String(contentsOfFile: serverPidFile, encoding: .utf8) {
            try pid.trimmingCharacters(in: .whitespacesAndNewlines).write(toFile: pidFile, atomically: true, encoding: .utf8)
        } else {
            try String(process.processIdentifier).write(toFile: pidFile, atomically: true, encoding: .utf8)
        }
    }

    private static func commandLine(of pid: Int32) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Alive and not a zombie.
    private static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
    }

    private static func acceptsConnections(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
