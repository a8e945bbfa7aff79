import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Kafka outages during an S3 sink run are waited out, never fatal, and
/// the archive stays exactly once.
final class S3SinkOutageTests: XCTestCase {
    /// The issue's measured failure: every broker (so the group coordinator)
    /// down for longer than the session timeout ended the run with
    /// `Kafka commit offsets for group failed (-180): Local: Waiting for coordinator`.
    func testACoordinatorOutageLongerThanTheSessionTimeoutIsWaitedOutExactlyOnce() async throws {
        let env = try S3TestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 3)
        defer { cluster.close() }
        let topic = "P_USERS"
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 3)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let perPartition: Int64 = 500
        let producer = try KafkaProducer(configuration: kafka)
        var messages: [KafkaMessage] = []
        for partition in Int32(0)..<4 {
            messages += SinkFixtures.messages(topic: topic, partition: partition, offsets: 0..<perPartition).map { message in
                var copy = message
                copy.offset = -1
                return copy
            }
        }
        _ = try await producer.send(messages)
        await producer.close()

        // flush.size=5: one upload and one synchronous commit per five records,
        // so commits are under way when the brokers go down.
        var config = env.sinkConfig(topic: topic, flushSize: 5)
        config.name = "s3-outage-\(UUID().uuidString.prefix(8))"
        let coordinator = cluster.brokerIDs[0]
        try cluster.setGroupCoordinator(config.groupID, broker: coordinator)
        let sink = try S3SinkConnector(config: config, kafka: kafka.with(["session.timeout.ms": "6000"]))
        let running = SinkRun { try await sink.run() }
        try await waitUntil(within: 60, "first commits") {
            try running.checkAlive()
            return sink.statistics.commits >= 10
        }

        // The coordinator alone: the other brokers keep serving fetches, so
        // uploads go on and their commits keep failing for the whole outage.
        try cluster.setBrokerDown(coordinator)
        try await Task.sleep(for: .seconds(15))  // more than twice the session timeout
        try running.checkAlive()
        try cluster.setBrokerUp(coordinator)

        let client = try env.client()
        let prefix = config.naming.topicsDir + "/"
        let expected = 4 * Int(perPartition)
        try await waitUntil(within: 45, "every record archived after the outage") {
            try running.checkAlive()
            let objects = try await env.objects(under: prefix, client: client)
            return objects.values.reduce(0) { $0 + lines($1).count } >= expected
        }
        try await running.stop()

        let objects = try await env.objects(under: prefix, client: client)
        for partition in Int32(0)..<4 {
            let keys = objects.keys.filter { $0.contains("/partition=\(partition)/") }.sorted()
            XCTAssertEqual(
                keys.flatMap { lines(objects[$0]!) }, (0..<perPartition).map { SinkFixtures.line(id: $0) },
                "partition \(partition): every record exactly once, in offset order")
        }
        let checker = try KafkaConsumer(
            configuration: kafka.with(["session.timeout.ms": "6000"]), groupID: config.groupID, topics: [topic])
        let committed = try await checker.committed((0..<4).map { TopicPartition(topic, $0) })
        await checker.close()
        XCTAssertEqual(committed, Dictionary(uniqueKeysWithValues: (0..<4).map { (TopicPartition(topic, $0), perPartition) }))
    }
}

extension S3SinkOutageTests {
    func testS3AnsweringSlowDownFor10SecondsIsWaitedOutExactlyOnce() async throws {
        try await archiveThroughAnS3Outage(.slowDown, lasting: .seconds(10), stallTimeout: .seconds(30))
    }

    /// The issue: an endpoint that never answers gave its first error after
    /// 121 s, with nothing logged in between. Now each request times out
    /// after `s3.stall.timeout.ms` and is retried (and logged).
    func testS3ThatNeverAnswersIsTimedOutRetriedAndWaitedOut() async throws {
        try await archiveThroughAnS3Outage(.stall(seconds: 3), lasting: .seconds(10), stallTimeout: .seconds(1))
    }

    private func archiveThroughAnS3Outage(
        _ fault: FaultProxy.Fault, lasting outage: Duration, stallTimeout: Duration
    ) async throws {
        let env = try S3TestEnvironment.load()
        let proxy = try FaultProxy(upstream: env.endpoint, plan: [])
        defer { proxy.stop() }
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        let topic = "P_USERS"
        try cluster.createTopic(topic, partitions: 2)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let perPartition: Int64 = 300
        let beforeOutage: Int64 = 100
        let producer = try KafkaProducer(configuration: kafka)
        func produce(_ offsets: Range<Int64>) async throws {
            var messages: [KafkaMessage] = []
            for partition in Int32(0)..<2 {
                messages += SinkFixtures.messages(topic: topic, partition: partition, offsets: offsets).map { message in
                    var copy = message
                    copy.offset = -1
                    return copy
                }
            }
            _ = try await producer.send(messages)
        }
        try await produce(0..<beforeOutage)

        var config = env.sinkConfig(topic: topic, flushSize: 10)
        config.name = "s3-down-\(UUID().uuidString.prefix(8))"
        config.endpoint = proxy.url
        // The sink's own policy (not the tests' quick one): retry until S3 is back.
        config.retry = S3SinkConfig(topics: [topic], bucket: env.bucket, flushSize: 1).retry
        config.stallTimeout = stallTimeout
        let sink = try S3SinkConnector(config: config, kafka: kafka.with(["session.timeout.ms": "6000"]))
        let running = SinkRun { try await sink.run() }
        try await waitUntil(within: 60, "the records before the outage") {
            try running.checkAlive()
            return sink.statistics.commits >= Int(2 * beforeOutage / 10)
        }

        // The rest arrives while S3 is down: the sink must upload during the outage.
        proxy.setStandingFault(fault)
        try await produce(beforeOutage..<perPartition)
        await producer.close()
        // The outage lasts at least `outage`, and until the sink has met it
        // more than once: on a loaded machine the first upload may come late.
        let outageStart = Date()
        try await Task.sleep(for: outage)
        try await waitUntil(within: 60, "the sink retrying during the outage") {
            try running.checkAlive()
            return proxy.counts.faults > 1
        }
        let outageSeconds = Date().timeIntervalSince(outageStart)
        let during = sink.statistics.commits
        let faults = proxy.counts.faults
        proxy.setStandingFault(nil)
        let back = Date()
        // How fast it resumes is measured by scripts/faults.sh, not asserted here.
        try await waitUntil(within: 60, "a commit after S3 came back") {
            try running.checkAlive()
            return sink.statistics.commits > during
        }
        print("S3 outage of \(Int(outageSeconds)) s: first commit \(String(format: "%.1f", Date().timeIntervalSince(back))) s after S3 came back")

        let client = try env.client()
        let prefix = config.naming.topicsDir + "/"
        try await waitUntil(within: 60, "every record archived") {
            try running.checkAlive()
            return sink.statistics.commits >= Int(2 * perPartition / 10)
        }
        try await running.stop()
        let objects = try await env.objects(under: prefix, client: client)
        for partition in Int32(0)..<2 {
            let keys = objects.keys.filter { $0.contains("/partition=\(partition)/") }.sorted()
            XCTAssertEqual(
                keys.flatMap { lines(objects[$0]!) }, (0..<perPartition).map { SinkFixtures.line(id: $0) },
                "partition \(partition): every record exactly once, in offset order")
        }
        print("\(faults) requests failed during the outage; S3 retries: \(sink.statistics)")
    }
}

/// A sink run whose failure, if it ends on its own, is visible while it runs.
final class SinkRun: Sendable {
    let task: Task<Void, any Error>
    private let failure = Locked<String?>(nil)

    init(_ run: @escaping @Sendable () async throws -> Void) {
        let failure = self.failure
        task = Task {
            do { try await run() } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
    }

    /// Throws when the run ended with an error.
    func checkAlive() throws {
        if let failure = failure.value { throw PipelineError.other("the sink stopped: \(failure)") }
    }

    func stop() async throws {
        task.cancel()
        try await task.value
    }
}

/// Polls `condition` every 200 ms until it holds; fails the test after `seconds`.
func waitUntil(
    within seconds: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    XCTFail("timed out after \(seconds) s waiting for \(what)", file: file, line: line)
    throw PipelineError.other("timed out waiting for \(what)")
}
