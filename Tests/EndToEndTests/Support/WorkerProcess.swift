import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary run CONNECTOR.json…` in a child process, as an operator runs
/// connect-standalone: working directory = the scenario's (offset files go to
/// `.tributary/offsets/`), output appended to `worker.log` there.
///
/// Used from one test task at a time; `Process` itself is not `Sendable`.
final class WorkerProcess: @unchecked Sendable {
    let scenario: Scenario
    let environment: E2EEnvironment
    let logURL: URL
    private var process: Process?
    private(set) var starts = 0

    /// `logName`: a second worker of the same scenario logs to a file of its own.
    init(scenario: Scenario, environment: E2EEnvironment, logName: String = "worker.log") {
        self.scenario = scenario
        self.environment = environment
        logURL = scenario.directory.appendingPathComponent(logName)
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    }

    /// Starts a worker; one at a time. With `embeddedBroker`, no broker is
    /// named (nor TRIBUTARY_BOOTSTRAP passed on): the worker starts the
    /// embedded cluster in its own process, as a user without Kafka gets it.
    /// `connect` instead of `run` starts `tributary connect` (no connector
    /// files: they are PUT over its REST API) on a free loopback port.
    /// `ui` starts `tributary ui`, the console alone, on a free loopback port.
    /// `workerFile` is passed to `tributary connect` as `--worker`.
    func start(embeddedBroker: Bool = false, connect: Bool = false, connectFiles: [URL] = [], workerFile: URL? = nil, ui: Bool = false) throws {
        precondition(process == nil, "a worker is already running")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.tributary)
        if ui {
            process.arguments = ["ui", "--listeners", "http://127.0.0.1:0", "--bootstrap-servers", environment.bootstrapServers]
        } else if connect {
            process.arguments = ["connect"] + connectFiles.map(\.path) + [
                "--listeners", "http://127.0.0.1:0", "--bootstrap-servers", environment.bootstrapServers,
            ] + (workerFile.map { ["--worker", $0.path] } ?? [])
        } else if embeddedBroker {
            process.arguments = ["run"] + scenario.connectorFiles.map(\.path) + ["--progress-interval", "5"]
            process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "TRIBUTARY_BOOTSTRAP" }
        } else {
            // The broker is named explicitly: without it the worker would start an
            // embedded cluster of its own and the test would watch the wrong one.
            process.arguments = ["run"] + scenario.connectorFiles.map(\.path) + [
                "--bootstrap-servers", environment.bootstrapServers, "--progress-interval", "5",
            ]
        }
        process.currentDirectoryURL = scenario.directory
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        log.write(Data("==== worker start \(starts + 1) at \(Date())\n".utf8))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()  // the child has its own copy
        self.process = process
        starts += 1
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// The REST API's base URL of the running `tributary connect`, from the
    /// line it logs once it listens (the port is the kernel's pick).
    func restBase(within seconds: Double = 60) async throws -> String {
        try await loggedBase(after: "REST API listening on ", within: seconds)
    }

    /// The base URL `tributary ui` logs once it listens.
    func consoleBase(within seconds: Double = 60) async throws -> String {
        try await loggedBase(after: "console listening on ", within: seconds).replacingOccurrences(of: "/ui", with: "")
    }

    private func loggedBase(after text: String, within seconds: Double) async throws -> String {
        let marker = "==== worker start \(starts) at"
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try checkAlive()
            let thisStart = log().components(separatedBy: marker).last ?? ""
            if let line = thisStart.split(separator: "\n").last(where: { $0.contains(text) }),
                let range = line.range(of: "http://")
            {
                return String(line[range.lowerBound...]).trimmingCharacters(in: .whitespaces)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EFailure("tributary did not log \"\(text)\" within \(Int(seconds)) s; log tail:\n\(logTail())")
    }

    /// How a worker ended.
    enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Sends `signal` and waits (bounded) for the worker to end. A worker
    /// still running after `within` seconds is SIGKILLed and reported as a
    /// failure: a graceful stop that hangs is a bug, not a slow machine.
    func stop(_ signal: Int32, within seconds: Double = 60) async throws -> Ending {
        guard let process else { throw E2EFailure("no worker is running") }
        defer { self.process = nil }
        guard process.isRunning else {
            throw E2EFailure("the worker had already ended (\(Self.ending(of: process))); see \(logURL.path)")
        }
        // Only a real child pid: kill(0) or kill(-1) would hit this process or more.
        let pid = process.processIdentifier
        precondition(pid > 0)
        Glibc.kill(pid, signal)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            Glibc.kill(pid, SIGKILL)
            process.waitUntilExit()
            throw E2EFailure("the worker did not stop within \(Int(seconds)) s of signal \(signal); see \(logURL.path)")
        }
        process.waitUntilExit()
        return Self.ending(of: process)
    }

    /// Kills a leftover worker (a test that threw midway) so it cannot outlive the test.
    func killIfRunning() {
        guard let process, process.isRunning, process.processIdentifier > 0 else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Throws when the worker stopped on its own: nothing ends a healthy worker.
    func checkAlive() throws {
        guard let process, !process.isRunning else { return }
        throw E2EFailure("the worker stopped on its own (\(Self.ending(of: process))); log tail:\n\(logTail())")
    }

    private static func ending(of process: Process) -> Ending {
        process.terminationReason == .uncaughtSignal
            ? .signalled(process.terminationStatus) : .exited(process.terminationStatus)
    }

    /// The worker's whole log.
    func log() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// The last lines of the worker's log, for failure messages.
    func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
