import Foundation
import XCTest

@testable import PipelineCore

/// ``SinkRunner`` on the real broker with a sink task that only records
/// what it is given.
final class SinkRunnerTests: XCTestCase {
    /// Batches keep each partition's order and their bounds, the next batch
    /// is decoded while one is put, and a cancelled runner finishes the put
    /// in hand and commits everything put.
    func testDecodesAheadInOrderWithinTheRecordBoundAndCommitsWhatWasPutOnStop() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("runner")
        try await produce(numberedMessages(topic: topic, count: 400), kafka: kafka)
        let group = TestEnvironment.unique("runner-group")
        let task = RecordingTask.Intake()
        let runner = SinkRunner(settings: SinkRunnerSettings(
            groupID: group, topics: [topic], consumer: kafka.with(TestEnvironment.consumerProperties),
            maxRecords: 25, pollTimeout: .milliseconds(100)))
        let running = Task { try await runner.run(RecordingTask(intake: task, putDuration: .milliseconds(40))) }
        try await waitUntil(within: 30) { task.log.value.putCount >= 150 }
        running.cancel()
        try await running.value

        let log = task.log.value
        XCTAssertTrue(log.stopped)
        XCTAssertLessThan(log.putCount, 400, "stopped before the end: a batch was in hand")
        XCTAssertTrue(log.batches.allSatisfy { $0.count <= 25 }, "at most maxRecords per batch: \(log.batches.map(\.count))")
        var next: [TopicPartition: Int64] = [:]
        for message in log.batches.joined() {
            XCTAssertEqual(message.offset, next[message.topicPartition] ?? 0, "\(message.position) in order, none twice or skipped")
            next[message.topicPartition] = message.offset + 1
        }
        XCTAssertTrue(log.decodedDuringPut, "a batch was decoded while the previous one was put")

        let probe = try KafkaConsumer(configuration: kafka, groupID: group, topics: [topic])
        let committed = try await probe.committed(Array(next.keys))
        await probe.close()
        XCTAssertEqual(committed, next, "everything put is committed, the put in hand included")
    }

    /// A batch ends at the record that brings its keys and values to maxBytes.
    func testBatchesStopAtTheByteBound() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("runner-bytes")
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        let messages = (0..<120).map { i in KafkaMessage(topic: topic, key: Array("k\(i)".utf8), value: value) }
        try await produce(messages, kafka: kafka)
        let task = RecordingTask.Intake()
        let runner = SinkRunner(settings: SinkRunnerSettings(
            groupID: TestEnvironment.unique("runner-bytes-group"), topics: [topic],
            consumer: kafka.with(TestEnvironment.consumerProperties), maxRecords: 1000, maxBytes: 8000,
            pollTimeout: .milliseconds(100)))
        let running = Task { try await runner.run(RecordingTask(intake: task, putDuration: .zero)) }
        try await waitUntil(within: 30) { task.log.value.putCount >= 120 }
        running.cancel()
        try await running.value
        let sizes = task.log.value.batches.map(\.count)
        XCTAssertEqual(sizes.reduce(0, +), 120)
        // 7 records hold 7,000-odd bytes (< 8,000): the 8th is taken and ends the batch.
        XCTAssertTrue(sizes.allSatisfy { $0 <= 8 }, "\(sizes)")
        XCTAssertTrue(sizes.contains(8), "the bound, not the poll, cut batches: \(sizes)")
    }

    /// A partition revoked after the batch ahead was polled is closed before
    /// that batch is handed out, and the batch comes decoded again without
    /// the partition's records.
    func testARevokeAfterThePollDropsThePartitionFromTheBatchAhead() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("runner-revoke")
        try await produce(numberedMessages(topic: topic, count: 200), kafka: kafka)
        let revocations = SinkRevocations()
        let intake = RecordingTask.Intake()
        let consumer = try KafkaConsumer(
            configuration: kafka.with(TestEnvironment.consumerProperties), groupID: TestEnvironment.unique("runner-revoke-group"),
            topics: [topic], hooks: RebalanceHooks(revoked: { revocations.record($0) }))
        var pipeline = SinkPipeline(
            consumer: consumer, intake: intake, revocations: revocations, maxRecords: 50, maxBytes: .max,
            timeout: .milliseconds(100), fill: .zero)
        // Until the batch ahead holds records: every nonempty poll is decoded once.
        var handedOut = 0
        try await waitUntil(within: 30) {
            if try await !pipeline.next().messages.isEmpty { handedOut += 1 }
            try await Task.sleep(for: .milliseconds(300))  // the poll ahead (100 ms) and its decode are done
            return intake.decoded.value.count > handedOut
        }
        let ahead = intake.decoded.value.last!
        let lost = ahead[0].topicPartition
        revocations.record([lost])
        let second = try await pipeline.next()
        await pipeline.finish()
        await consumer.close()

        XCTAssertEqual(second.revoked, [lost])
        XCTAssertEqual(second.messages.map(\.position), ahead.filter { $0.topicPartition != lost }.map(\.position))
        XCTAssertEqual(second.batch?.map(\.position) ?? [], second.messages.map(\.position), "decoded again without them")
    }

    /// Each revoke is handed out once, in order; only those after a batch's
    /// poll ended take records out of it.
    func testRevocationsAreTakenOnceInOrderAndOnlyLaterOnesFilterABatch() {
        let revocations = SinkRevocations()
        let a = TopicPartition("t", 0), b = TopicPartition("t", 1), c = TopicPartition("t", 2)
        revocations.record([b, a])  // during the poll
        let mark = revocations.count
        revocations.record([c, b])  // after it ended
        let taken = revocations.take(after: mark)
        XCTAssertEqual(taken.all, [b, a, c])
        XCTAssertEqual(taken.since, [c, b])
        let again = revocations.take(after: 0)
        XCTAssertEqual(again.all, [])
        XCTAssertEqual(again.since, [])
    }

    /// A commit refused by a rebalance closes every partition the task
    /// holds; nothing is put until the revoke, and then the partitions
    /// resume at their committed offsets (here: none committed, so 0).
    func testARefusedCommitDropsEverythingUntilTheRevokeThenResumesAtTheCommittedOffsets() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("runner-refused")
        try await produce(numberedMessages(topic: topic, count: 200), kafka: kafka)
        let settings = SinkRunnerSettings(
            groupID: TestEnvironment.unique("runner-refused-group"), topics: [topic],
            consumer: kafka.with(TestEnvironment.consumerProperties), maxRecords: 10, pollTimeout: .milliseconds(100))
        let first = RecordingTask.Intake(), second = RecordingTask.Intake()
        let running = Task {
            try await SinkRunner(settings: settings).run(RecordingTask(intake: first, putDuration: .milliseconds(20), refusals: 1))
        }
        try await waitUntil(within: 30) { first.log.value.events.contains { if case .refused = $0 { return true } else { return false } } }
        // A second member makes the group rebalance: every partition of the first is revoked.
        let joining = Task { try await SinkRunner(settings: settings).run(RecordingTask(intake: second, putDuration: .zero)) }
        try await waitUntil(within: 60) {
            first.log.value.events.filter { if case .closed = $0 { return true } else { return false } }.count >= 2
                && first.log.value.events.last.map { if case .put = $0 { return true } else { return false } } == true
                && second.log.value.putCount > 0
        }
        running.cancel()
        joining.cancel()
        try await running.value
        try await joining.value

        let events = first.log.value.events
        let refusal = events.firstIndex { if case .refused = $0 { return true } else { return false } }!
        guard case .refused(let refusedBatch) = events[refusal], case .closed(let dropped) = events[refusal + 1] else {
            return XCTFail("a refusal is followed by closing what the task holds: \(events)")
        }
        XCTAssertEqual(Set(dropped), Set(refusedBatch.map(\.topicPartition)))
        guard let revoke = events[(refusal + 2)...].firstIndex(where: { if case .closed = $0 { return true } else { return false } }) else {
            return XCTFail("no revoke after the refusal: \(events)")
        }
        XCTAssertTrue(
            events[(refusal + 2)..<revoke].allSatisfy { if case .put = $0 { return false } else { return true } },
            "nothing is put between the refusal and the revoke")
        var seen: Set<TopicPartition> = []
        for case .put(let batch) in events[revoke...] {
            for message in batch where seen.insert(message.topicPartition).inserted {
                XCTAssertEqual(message.offset, 0, "\(message.topicPartition) resumes at its committed offset")
            }
        }
        XCTAssertFalse(seen.isEmpty, "the first member got partitions back")
    }

    private func produce(_ messages: [KafkaMessage], kafka: KafkaConfiguration) async throws {
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(messages)
        await producer.close()
    }

    private func waitUntil(within seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { return XCTFail("not within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Records batches, decodes and puts; commits synchronously everything put.
private final class RecordingTask: SinkTask {
    enum Event {
        case put([KafkaMessage])
        case refused([KafkaMessage])
        case closed([TopicPartition])
    }

    struct Log {
        var events: [Event] = []
        var batches: [[KafkaMessage]] = []
        var putCount = 0
        var putting = false
        var decodedDuringPut = false
        var stopped = false
    }

    struct Intake: SinkIntake {
        /// Every decode's input.
        let decoded = Locked<[[KafkaMessage]]>([])
        /// Set by the task: decodes note whether a put is running.
        let log = Locked(Log())

        func decode(_ messages: [KafkaMessage]) -> [KafkaMessage] {
            decoded.withLock { $0.append(messages) }
            log.withLock { if $0.putting { $0.decodedDuringPut = true } }
            return messages
        }
    }

    let intake: Intake
    private var log: Locked<Log> { intake.log }
    private let putDuration: Duration
    private var pending: [TopicPartition: Int64] = [:]
    /// Puts that fail as a commit refused by a rebalance would.
    private var refusals: Int

    init(intake: Intake, putDuration: Duration, refusals: Int = 0) {
        self.intake = intake
        self.putDuration = putDuration
        self.refusals = refusals
    }

    func put(_ batch: [KafkaMessage], context: SinkTaskContext) async throws {
        if refusals > 0 {
            refusals -= 1
            log.withLock { $0.events.append(.refused(batch)) }
            throw GroupRebalance(offsets: [:])
        }
        log.withLock { $0.putting = true }
        // Not cancellable, as a write in progress is not: the runner finishes it.
        let end = ContinuousClock.now + putDuration
        while ContinuousClock.now < end { await Task.yield() }
        for message in batch { pending[message.topicPartition] = message.offset + 1 }
        log.withLock { log in
            log.events.append(.put(batch))
            log.batches.append(batch)
            log.putCount += batch.count
            log.putting = false
        }
    }

    func preCommit() -> [TopicPartition: Int64] {
        defer { pending = [:] }
        return pending
    }

    func close(_ partitions: [TopicPartition]) async {
        log.withLock { $0.events.append(.closed(partitions)) }
    }

    func stop() async {
        log.withLock { $0.stopped = true }
    }
}
