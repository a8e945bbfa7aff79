import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// The sink as a process of its own, so a test can SIGKILL it.
///
/// There is no `tributary sink mysql` command yet, so the test binary starts
/// itself with only this test selected and the connector in an environment
/// variable. Run any other way it returns at once: it is an entry point, not
/// a test.
final class SinkChildProcess: XCTestCase {
    static let propertiesVariable = "TRIBUTARY_SINK_CHILD_PROPERTIES"
    static let testName = "MySQLSinkTests.SinkChildProcess/testChildProcessEntryPoint"

    func testChildProcessEntryPoint() async throws {
        // Only a real run as SinkKillTests' child means anything: report a skip, not a pass.
        guard let json = ProcessEnvironment.get(Self.propertiesVariable) else {
            throw XCTSkip("runs only as the sink process that SinkKillTests starts and kills")
        }
        let spec = try ConnectorSpec.parse(Array(json.utf8), fallbackName: "child")
        let sink = try MySQLSink(properties: spec.properties, kafka: try KafkaTestEnvironment.kafka())
        let running = Task { try await sink.run() }
        // SIGTERM is the graceful stop: finish the batch, commit, exit 0.
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { running.cancel() }
        source.resume()
        do {
            try await running.value
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("sink failed: \(error)\n".utf8))
            exit(3)
        }
    }

    /// Starts the sink in a child process; its output goes to `log`.
    static func spawn(properties: [String: String], log: String) throws -> Process {
        let json = JSON.object(properties.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }).text
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try testBinary())
        process.arguments = [testName]
        var environment = ProcessInfo.processInfo.environment
        environment[propertiesVariable] = json
        process.environment = environment
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The running test binary (the `.xctest` executable on Linux).
    static func testBinary() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestEnvironmentError("cannot find the test binary to start the sink process (\(path))")
        }
        return path
    }
}
