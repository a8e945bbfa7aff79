import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

#if canImport(Glibc)
    import Glibc
#endif

/// The sink killed with SIGKILL again and again while 20,000 records
/// stream: in the final bucket every record is in exactly one object.
///
/// The sink runs in a child process (this test binary again, running
/// ``S3SinkCrashChild``), so a kill is a real crash: no cleanup, multipart
/// uploads left open, uploaded objects whose offsets were never committed.
/// The Kafka cluster lives in this process and outlives every child.
final class S3SinkCrashTests: XCTestCase {
    static let recordCount = 20_000
    static let partitions = 4

    func testSigkillWithFlushSizeRebuildsByteIdenticalObjects() async throws {
        try await crashRun(extra: ["flush.size": "100"], expectedObjects: Self.recordCount / 100, identical: true)
    }

    /// The seed's `rotate.schedule.interval.ms`; with 200 records a second
    /// per partition, files are cut by the clock as often as by size.
    func testSigkillWithScheduledRotationKeepsEveryRecordOnce() async throws {
        try await crashRun(
            extra: ["flush.size": "1000", "rotate.schedule.interval.ms": "6000"], expectedObjects: nil, identical: false)
    }

    /// 100 batches of 200 over about 25 s, so the kills land mid-stream.
    static func stream(to producer: KafkaProducer) async throws {
        for batch in 0..<100 {
            let messages = (0..<200).map { index -> KafkaMessage in
                let id = Int64(batch * 200 + index)
                return KafkaMessage(
                    topic: "P_USERS", partition: Int32(id % Int64(partitions)), key: Array("\(id)".utf8),
                    value: try! JsonConverter().encode(SinkFixtures.value(id: id)))
            }
            _ = try await producer.send(messages)
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Streams the records, kills the sink three times at random moments,
    /// lets a last sink finish, then checks the bucket.
    func crashRun(extra: [String: String], expectedObjects: Int?, identical: Bool) async throws {
        let env = try S3TestEnvironment.load()
        // The embedded broker lives here and talks to children that die
        // mid-write: a write to a dead socket must be an error, not SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("P_USERS", partitions: Self.partitions)
        let topicsDir = String(S3TestEnvironment.uniquePrefix().dropLast())
        var properties = [
            "name": "crash-\(UUID().uuidString.prefix(8))", "connector.class": "io.confluent.connect.s3.S3SinkConnector",
            "topics": "P_USERS", "s3.bucket.name": env.bucket, "s3.region": env.region, "store.url": env.endpoint,
            "topics.dir": topicsDir, "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "s3.part.retries": "8", "s3.retry.backoff.ms": "20",
        ]
        properties.merge(extra) { _, new in new }
        let child = ChildSink(properties: properties, bootstrap: cluster.bootstrapServers)
        defer { child.kill() }

        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        let streaming = Task { try await S3SinkCrashTests.stream(to: producer) }

        let client = try env.client()
        let bucket = BucketWatcher(env: env, client: client, prefix: topicsDir + "/")

        var progressBetweenKills: [Int] = []
        for _ in 0..<3 {
            try child.start()
            // Kill only once this sink owns the partitions (a join takes a
            // few seconds, and waits out the killed member's session), at a
            // random moment of its work.
            let before = try await bucket.snapshot().count
            let joinDeadline = Date().addingTimeInterval(60)
            while !child.hasBeenAssigned && Date() < joinDeadline { try await Task.sleep(for: .milliseconds(100)) }
            XCTAssertTrue(child.hasBeenAssigned, "the sink never joined; see \(child.logPath)")
            let end = Date().addingTimeInterval(Double.random(in: 1...7))
            while Date() < end {
                _ = try await bucket.snapshot()
                try await Task.sleep(for: .milliseconds(300))
            }
            child.kill()
            progressBetweenKills.append(try await bucket.snapshot().count - before)
        }
        XCTAssertGreaterThan(progressBetweenKills.filter { $0 > 0 }.count, 0, "no sink uploaded anything before it was killed")
        try child.start()
        try await streaming.value
        await producer.close()

        // Wait for the last sink to have written everything exactly once.
        let lineIDs = Dictionary(uniqueKeysWithValues: (0..<Self.recordCount).map { (SinkFixtures.line(id: Int64($0)), $0) })
        var counts: [Int: Int] = [:]
        var objects: [String: [UInt8]] = [:]
        let deadline = Date().addingTimeInterval(120)
        repeat {
            try await Task.sleep(for: .seconds(1))
            objects = try await bucket.snapshot()
            counts = [:]
            for bytes in objects.values { for line in lines(bytes) { counts[lineIDs[line] ?? -1, default: 0] += 1 } }
            let complete = counts.count == Self.recordCount && counts.values.allSatisfy { $0 == 1 }
            if complete && (expectedObjects == nil || objects.count == expectedObjects) { break }
        } while Date() < deadline && child.isRunning
        child.kill()

        XCTAssertEqual(counts[-1], nil, "objects hold lines that are no record")
        XCTAssertEqual(counts.count, Self.recordCount, "records missing: \(Self.recordCount - counts.count)")
        let duplicated = counts.filter { $0.value > 1 }
        XCTAssertTrue(duplicated.isEmpty, "\(duplicated.count) records are in more than one object")
        if let expectedObjects { XCTAssertEqual(objects.count, expectedObjects) }
        if identical {
            for (key, bytes) in objects {
                XCTAssertEqual(bucket.firstSeen[key], bytes, "\(key) differs from its first version")
            }
        }
        XCTAssertEqual(child.starts, 4)
        XCTAssertFalse(child.exitedEarly, "a sink stopped on its own; see \(child.logPath)")
    }
}

/// The objects under a prefix, remembering each key's first content.
final class BucketWatcher {
    let env: S3TestEnvironment
    let client: S3Client
    let prefix: String
    private(set) var firstSeen: [String: [UInt8]] = [:]

    init(env: S3TestEnvironment, client: S3Client, prefix: String) {
        self.env = env
        self.client = client
        self.prefix = prefix
    }

    func snapshot() async throws -> [String: [UInt8]] {
        let current = try await env.objects(under: prefix, client: client)
        for (key, bytes) in current where firstSeen[key] == nil { firstSeen[key] = bytes }
        return current
    }
}

/// The sink in a child process: this test binary, running only
/// ``S3SinkCrashChild/testRunSinkAsCrashTestChild``.
final class ChildSink: @unchecked Sendable {
    // @unchecked: used from the one test task that owns it.
    let properties: [String: String]
    let bootstrap: String
    let logPath = NSTemporaryDirectory() + "s3-crash-child-\(UUID().uuidString.prefix(8)).log"
    private var process: Process?
    private(set) var starts = 0
    private(set) var exitedEarly = false

    init(properties: [String: String], bootstrap: String) {
        self.properties = properties
        self.bootstrap = bootstrap
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Whether the current child logged a partition assignment.
    var hasBeenAssigned: Bool {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.components(separatedBy: "] assigned ").count - 1 >= starts
    }

    func start() throws {
        let config = try JSONSerialization.data(withJSONObject: ["config": properties])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["S3SinkTests.S3SinkCrashChild/testRunSinkAsCrashTestChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[S3SinkCrashChild.configVariable] = String(decoding: config, as: UTF8.self)
        environment[S3SinkCrashChild.bootstrapVariable] = bootstrap
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        starts += 1
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    func kill() {
        guard let process else { return }
        // Only a real child pid: kill(0) or kill(-1) would hit this very process.
        if process.isRunning && process.processIdentifier > 0 {
            Glibc.kill(process.processIdentifier, SIGKILL)
        } else {
            exitedEarly = true
        }
        process.waitUntilExit()
        self.process = nil
    }
}

/// Not a test of its own: the sink process of ``S3SinkCrashTests``.
final class S3SinkCrashChild: XCTestCase {
    static let configVariable = "TRIBUTARY_S3_CRASH_CHILD_CONNECTOR"
    static let bootstrapVariable = "TRIBUTARY_S3_CRASH_CHILD_BOOTSTRAP"

    func testRunSinkAsCrashTestChild() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let connector = environment[Self.configVariable], let bootstrap = environment[Self.bootstrapVariable] else {
            throw XCTSkip("runs only as the sink process that S3SinkCrashTests starts and kills")
        }
        // Never outlive the test that started us: if it dies, so do we.
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { usleep(200_000) }
            exit(3)
        }
        let spec = try ConnectorSpec.parse(Array(connector.utf8), fallbackName: "crash")
        let config = try S3SinkConfig(properties: spec.properties)
        let sink = try S3SinkConnector(
            config: config, kafka: KafkaConfiguration(bootstrapServers: bootstrap, properties: ["session.timeout.ms": "6000"]))
        try await sink.run()
    }
}
