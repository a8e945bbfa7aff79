import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// A rotation whose upload gives up (the client's retries spent) keeps its
/// file, commits nothing, and the task's next rotation uploads that file
/// whole before committing: an embedder that calls `put` or `tick` again
/// after the error loses nothing and gets the objects Connect would write.
final class FailedUploadTests: XCTestCase {
    func testAScheduledRotationThatFailedIsUploadedWholeByTheNextTick() async throws {
        let env = try S3TestEnvironment.load()
        let proxy = try FaultProxy(upstream: env.endpoint, plan: [])
        defer { proxy.stop() }
        var config = env.sinkConfig(flushSize: 1000)
        config.rotation.scheduleIntervalMilliseconds = 6000
        let clock = TestClock()
        clock.now.withLock { $0 = 1_700_000_004_000 }  // a whole number of 6 s slots after midnight UTC
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: try Self.oneAttemptClient(env, proxy), commit: log.committer, clock: clock.read)

        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<5))
        proxy.setStandingFault(.internalError)
        clock.advance(by: 6000)
        let failed = await expectS3Error { try await task.tick() }
        XCTAssertEqual(failed?.isRetriable, true, "a 500 from S3: the upload gave up, retriable later")
        XCTAssertEqual(log.commits.value.count, 0, "nothing committed while the object is not in S3")
        XCTAssertEqual(task.partitionsWithOpenFiles, [TopicPartition("P_USERS", 0)], "the file is kept")

        proxy.setStandingFault(nil)
        try await task.tick()
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 5])
        let objects = try await env.objects(under: config.naming.topicsDir + "/", client: try env.client())
        XCTAssertEqual(objects.count, 1)
        XCTAssertEqual(objects.values.first.map(lines), (0..<5).map { SinkFixtures.line(id: $0) }, "every record, once")
    }

    func testAFullFileWhoseUploadFailedIsUploadedBeforeTheNextRecordJoinsIt() async throws {
        let env = try S3TestEnvironment.load()
        let proxy = try FaultProxy(upstream: env.endpoint, plan: [])
        defer { proxy.stop() }
        let config = env.sinkConfig(flushSize: 10)
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: try Self.oneAttemptClient(env, proxy), commit: log.committer)

        proxy.setStandingFault(.serviceUnavailable)
        let failed = await expectS3Error { try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<10)) }
        XCTAssertEqual(failed?.isRetriable, true, "a 503 from S3: the upload gave up, retriable later")
        XCTAssertEqual(log.commits.value.count, 0)

        proxy.setStandingFault(nil)
        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 10..<11))
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 10], "the full file, then its commit")
        XCTAssertEqual(task.partitionsWithOpenFiles, [TopicPartition("P_USERS", 0)], "record 10 starts the next file")
        let dir = config.naming.topicsDir
        let objects = try await env.objects(under: dir + "/", client: try env.client())
        XCTAssertEqual(objects.keys.sorted(), ["\(dir)/P_USERS/partition=0/P_USERS+0+0000000000.json"])
        XCTAssertEqual(objects.values.first.map(lines), (0..<10).map { SinkFixtures.line(id: $0) }, "flush.size records, not 11")
    }

    /// A client through `proxy` that gives up after one attempt.
    private static func oneAttemptClient(_ env: S3TestEnvironment, _ proxy: FaultProxy) throws -> S3Client {
        try env.client(endpoint: proxy.url, retry: .none)
    }
}
