import Foundation
import PipelineCore
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A sink killed with SIGKILL and started again at once owns its partitions
/// again within seconds, not after the old member's session times out, and
/// still archives every record exactly once.
final class SinkRecoveryTests: XCTestCase {
    /// On main this took about 19 s on the embedded broker (10 s session,
    /// and the mock's rejoin waits for the dead member to expire). Now a
    /// worker joins as a static member (for real Kafka), and on the embedded
    /// broker, which ignores `group.instance.id`, with a 4 s session: 3.5 to
    /// 7.3 s measured; the bound leaves room for a loaded CI machine.
    static let ownershipBound: Double = 12

    func testS3SinkKilledAndRestartedOwnsItsPartitionsWithinSecondsExactlyOnce() async throws {
        let environment = try E2EEnvironment.load()
        let topic = "recovery_\(UUID().uuidString.prefix(8).lowercased())"
        let topicsDir = "recovery-\(UUID().uuidString.prefix(8).lowercased())"
        let reader = try TopicReader(environment: environment, topic: topic)
        try await reader.create(partitions: 4, control: environment.brokerControl)
        let total = 2_000
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: environment.bootstrapServers))
        _ = try await producer.send((0..<total).map { index in
            // 500 per partition, a multiple of flush.size: every file fills and is uploaded.
            KafkaMessage(
                topic: topic, partition: Int32(index % 4), key: Array("\(index)".utf8),
                value: Array(#"{"index":\#(index),"email":"u\#(index)@recovery.example"}"#.utf8))
        })
        await producer.close()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(topicsDir)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sink = SinkProcess(environment: environment, directory: directory, arguments: [
            "sink", "s3", "--name", topicsDir, "--progress-interval", "0",
            "--bootstrap-servers", environment.bootstrapServers,
            "--set", "topics=\(topic)", "--set", "s3.bucket.name=\(environment.s3Bucket)",
            "--set", "s3.region=\(environment.s3Region)", "--set", "store.url=\(environment.s3Endpoint)",
            "--set", "topics.dir=\(topicsDir)", "--set", "flush.size=10",
            "--set", "format.class=io.confluent.connect.s3.format.json.JsonFormat",
            "--set", "value.converter.schemas.enable=false",
        ])
        defer { sink.killIfRunning() }
        let s3 = try S3Reader(environment: environment, topicsDir: topicsDir, topic: topic)

        try sink.start()
        try await sink.waitForLog("assigned", within: 30)
        try await eventually("the first objects", within: 60) { try await s3.recordCount() >= 100 }
        sink.kill(SIGKILL)

        let restarted = Date()
        try sink.start()
        try await sink.waitForLog("assigned", within: 40)
        let owned = Date().timeIntervalSince(restarted)
        print("partitions owned again \(String(format: "%.2f", owned)) s after the restart")
        XCTAssertLessThan(owned, Self.ownershipBound, "the restarted sink waited for the old session; log:\n\(sink.logTail())")

        try await eventually("every record in S3", within: 120) {
            try sink.checkAlive()
            return try await s3.recordCount() >= total
        }
        XCTAssertEqual(sink.stop(SIGTERM), 0, "graceful stop must exit 0; log:\n\(sink.logTail())")

        let objects = try await s3.objects()
        let watermarks = try await reader.watermarks()
        let problems = S3Layout.problems(objects, topicsDir: topicsDir, topic: topic, watermarks: watermarks)
        XCTAssertEqual(problems, [], "S3 is not exactly once")
        let indexes = objects.values.flatMap { $0.map(\.index) }
        XCTAssertEqual(indexes.count, total, "lost or doubled records")
        XCTAssertEqual(Set(indexes), Set((0..<Int64(total))))
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Polls `condition` every 250 ms; throws after `seconds`.
func eventually(_ what: String, within seconds: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else { throw E2EFailure("gave up after \(Int(seconds)) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(250))
    }
}

/// One `tributary` command in a child process, restartable, with its output
/// appended to `sink.log` in `directory`. Used from one test task at a time.
final class SinkProcess: @unchecked Sendable {
    let environment: E2EEnvironment
    let arguments: [String]
    let directory: URL
    let logURL: URL
    private var process: Process?
    /// Where the current process's output starts in the log.
    private var logStart: UInt64 = 0

    init(environment: E2EEnvironment, directory: URL, arguments: [String]) {
        self.environment = environment
        self.directory = directory
        self.arguments = arguments
        logURL = directory.appendingPathComponent("sink.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.tributary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let log = try FileHandle(forWritingTo: logURL)
        logStart = log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
        self.process = process
    }

    /// The current process's output so far.
    func currentLog() -> String {
        guard let handle = FileHandle(forReadingAtPath: logURL.path) else { return "" }
        defer { try? handle.close() }
        handle.seek(toFileOffset: logStart)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    func waitForLog(_ text: String, within seconds: Double) async throws {
        try await eventually("'\(text)' in the log of \(logURL.path)", within: seconds) {
            try checkAlive()
            return currentLog().contains(text)
        }
    }

    func kill(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Sends `signal` and returns the exit status (-1 when killed by a signal).
    func stop(_ signal: Int32) -> Int32 {
        guard let process else { return -1 }
        kill(signal)
        return process.terminationReason == .exit ? process.terminationStatus : -1
    }

    func killIfRunning() { kill(SIGKILL) }

    func checkAlive() throws {
        guard let process, !process.isRunning else { return }
        throw E2EFailure("the sink exited with status \(process.terminationStatus); log:\n\(logTail())")
    }

    func logTail(lines: Int = 30) -> String {
        currentLog().split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
