import Foundation
import TestSupport
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary registry` in a child process on a free loopback port, its
/// output in a log file; the topic is created with one partition first
/// through the broker's control FIFO, as Confluent's registry wants it.
final class RegistryProcess: @unchecked Sendable {
    let topic: String
    let logURL: URL
    private var process: Process?
    private var starts = 0

    init(topic: String) {
        self.topic = topic
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(topic).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    }

    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw PipelineError.other("\(name) is not set; source the env file scripts/services.sh writes")
        }
        return value
    }

    /// Creates the topic with one partition and waits until the cluster lists it.
    func createTopic() async throws {
        try await BrokerControl.createTopic(
            topic, partitions: 1, bootstrapServers: try Self.environment("TRIBUTARY_BOOTSTRAP"), control: try BrokerControl.path())
    }

    /// Starts `tributary registry` (with `insideConnect`: `tributary connect
    /// --registry-listeners`, in a directory of its own for the worker's
    /// files) and returns the registry's base URL once it listens.
    func start(extra: [String] = [], insideConnect: Bool = false) async throws -> String {
        precondition(process == nil, "a registry is already running")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.tributary())
        let cluster = ["--bootstrap-servers", try Self.environment("TRIBUTARY_BOOTSTRAP"), "--schemas-topic", topic]
        if insideConnect {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(topic)-worker")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process.currentDirectoryURL = directory
            process.arguments = ["connect", "--listeners", "http://127.0.0.1:0", "--registry-listeners", "http://127.0.0.1:0"] + cluster + extra
        } else {
            process.arguments = ["registry", "--listeners", "http://127.0.0.1:0"] + cluster + extra
        }
        starts += 1
        let marker = "==== registry start \(starts)\n"
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        log.write(Data(marker.utf8))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            let thisStart = text.components(separatedBy: marker).last ?? ""
            if let line = thisStart.split(separator: "\n").last(where: { $0.contains("schema registry listening on ") }),
                let range = line.range(of: "http://")
            {
                return String(line[range.lowerBound...]).trimmingCharacters(in: .whitespaces)
            }
            guard process.isRunning else { throw PipelineError.other("tributary registry exited \(process.terminationStatus):\n\(thisStart)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PipelineError.other("tributary registry did not listen within 30 s; see \(logURL.path)")
    }

    /// Ends the registry with `signal` (SIGKILL: no chance to flush anything)
    /// and waits for it; returns its exit status (nil: killed by a signal).
    @discardableResult
    func stop(_ signal: Int32) async throws -> Int32? {
        guard let process else { return nil }
        self.process = nil
        let pid = process.processIdentifier
        precondition(pid > 0)
        Glibc.kill(pid, signal)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            Glibc.kill(pid, SIGKILL)
            throw PipelineError.other("tributary did not end within 20 s of signal \(signal); see \(logURL.path)")
        }
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    /// `tributary` sits next to the test bundle (`.build/<triple>/debug/`).
    static func tributary() throws -> String {
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("tributary").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PipelineError.other("no tributary executable at \(path); build it with `swift build --build-tests` first")
        }
        return path
    }
}

/// Support/registry_client.py: Confluent's Python client against the registry.
enum PythonClient {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("registry_client.py").path

    /// Runs one mode of the script and parses the JSON it prints.
    static func run(_ mode: String, base: String) async throws -> JSON {
        try JSON.parse(Data(try await ChildProcess.run(["python3", script, mode, base]).utf8))
    }
}
