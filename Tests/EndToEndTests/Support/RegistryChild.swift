import Foundation
import TestSupport
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary registry` as a child process on a free loopback port, over a
/// one-partition schemas topic of its own.
final class RegistryChild: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let url: String
    private let process: Process
    let log: URL

    /// Starts the registry and waits until it logs the URL it listens on.
    init(environment: E2EEnvironment, label: String, extra: [String] = []) async throws {
        let topic = "_schemas-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try await TopicReader(environment: environment, topic: topic).create(partitions: 1, control: environment.brokerControl)
        log = FileManager.default.temporaryDirectory.appendingPathComponent("\(topic).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: environment.tributary)
        process.arguments = ["registry", "--listeners", "http://127.0.0.1:0", "--bootstrap-servers", environment.bootstrapServers, "--schemas-topic", topic] + extra
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        let deadline = Date().addingTimeInterval(30)
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("schema registry listening on ") }),
                let start = line.range(of: "http://")
            {
                url = String(line[start.lowerBound...]).trimmingCharacters(in: .whitespaces)
                return
            }
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw E2EFailure("tributary registry did not start:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Support/avro_interop.py: Confluent's Python Avro serializer and deserializer.
enum PythonAvro {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("avro_interop.py").path

    /// Runs one mode of the script; its standard output, lines.
    @discardableResult
    static func run(_ arguments: [String]) async throws -> [String] {
        try await ChildProcess.run(["python3", script] + arguments).split(separator: "\n").map(String.init)
    }
}
