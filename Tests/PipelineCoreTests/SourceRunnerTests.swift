import Foundation
import PipelineCore
import XCTest

/// ``SourceRunner`` against the broker from scripts/services.sh, with a
/// trivial in-test ``SourceTask`` (``NumberedTask``).
final class SourceRunnerTests: XCTestCase {
    func testEveryBatchIsDeliveredOnceAcknowledgedInOrderAndCommitted() async throws {
        let kafka = try TestEnvironment.kafka()
        let producer = try KafkaProducer(configuration: kafka)
        let topic = TestEnvironment.unique("runner")
        let task = NumberedTask(topic: topic, count: 300)
        let throughput = Throughput(name: "runner")
        let runner = SourceRunner(producer: producer, commitInterval: .milliseconds(20), throughput: throughput)
        let run = Task { try await runner.run(task) }
        try await eventually("300 batches acknowledged") { task.state.value.acknowledged.count == 300 }
        run.cancel()
        try await run.value
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [])
        XCTAssertEqual(state.acknowledged, Array(0..<300))
        XCTAssertEqual(state.commits.last, 299, "everything acknowledged is committed")
        XCTAssertTrue(state.started && state.stopped)
        XCTAssertEqual(throughput.total, 3000)
        let messages = try await readTopic(topic, kafka: kafka)
        XCTAssertEqual(keys(messages).sorted(), keys(batches: 0..<300, size: 10).sorted(), "every message once")
        for (partition, list) in Dictionary(grouping: messages, by: \.partition) {
            let batches = list.sorted { $0.offset < $1.offset }.map { batchNumber($0) }
            XCTAssertEqual(batches, batches.sorted(), "partition \(partition) keeps the batches' order")
        }
    }

    /// A batch that completes a range is acknowledged and committed before
    /// the next poll; after `idle`, the runner commits and waits before polling again.
    func testRangesAreCommittedBeforeTheNextPollAndIdleWaits() async throws {
        let kafka = try TestEnvironment.kafka()
        let producer = try KafkaProducer(configuration: kafka)
        let task = NumberedTask(topic: TestEnvironment.unique("ranges"), count: 50, idle: .milliseconds(100), rangeEvery: 10)
        // Periodic commits never due: only the ranges and the idle wait commit.
        let runner = SourceRunner(producer: producer, commitInterval: .seconds(3600))
        let run = Task { try await runner.run(task) }
        try await eventually("two idle waits") { task.state.value.idleWaits.count >= 2 }
        run.cancel()
        try await run.value
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [], "every range committed before the next poll")
        XCTAssertEqual(state.commits, [9, 19, 29, 39, 49])
        for wait in state.idleWaits {
            XCTAssertGreaterThanOrEqual(wait, .milliseconds(90), "polled again before the idle time passed")
        }
    }

    /// A task that polls slowly never fills the window; its commits still
    /// follow the broker's acknowledgements instead of waiting for the end.
    func testCommitsFollowTheBrokerWhileTheWindowIsNotFull() async throws {
        let kafka = try TestEnvironment.kafka()
        let producer = try KafkaProducer(configuration: kafka)
        let topic = TestEnvironment.unique("slowpoll")
        // The topic exists first: the first send to a new one waits for its creation.
        _ = try await producer.send(KafkaMessage(topic: topic, key: nil, value: Array("first".utf8)))
        let task = NumberedTask(topic: topic, count: 20) { _ in
            try? await Task.sleep(for: .milliseconds(30))
        }
        let runner = SourceRunner(producer: producer, commitInterval: .milliseconds(10))
        let run = Task { try await runner.run(task) }
        try await eventually("20 batches acknowledged") { task.state.value.acknowledged.count == 20 }
        run.cancel()
        try await run.value
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [])
        XCTAssertLessThan(state.inFlight.max() ?? 0, 20, "the window never held every batch")
        XCTAssertGreaterThan(state.commits.count, 5, "commits while batches flow: \(state.commits)")
        XCTAssertEqual(state.commits.last, 19)
    }

    /// A poll that fails while batches are in flight loses none of them:
    /// they are still acknowledged and committed, the task hears that nothing
    /// past them was sent, and it goes on from there without a duplicate.
    func testAPollFailureStillAcknowledgesWhatIsInFlight() async throws {
        let kafka = try TestEnvironment.kafka()
        let producer = try KafkaProducer(configuration: kafka)
        let topic = TestEnvironment.unique("pollfail")
        let task = NumberedTask(topic: topic, count: 50, failingPolls: [25], failureEndsRun: false)
        let runner = SourceRunner(producer: producer)
        let run = Task { try await runner.run(task) }
        try await eventually("50 batches acknowledged") { task.state.value.acknowledged.count == 50 }
        run.cancel()
        try await run.value
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [])
        XCTAssertEqual(state.failures.count, 1)
        XCTAssertEqual(state.failures.first?.error, "poll of batch 25 failed")
        XCTAssertEqual(state.failures.first?.unsettled, false, "nothing past the acknowledged prefix was sent")
        XCTAssertEqual(state.failures.first?.acknowledged, 24, "the batches in flight were acknowledged first")
        XCTAssertEqual(state.acknowledged, Array(0..<50))
        let messages = try await readTopic(topic, kafka: kafka)
        XCTAssertEqual(keys(messages).sorted(), keys(batches: 0..<50, size: 10).sorted(), "every message once")
    }

    /// A task that cannot start ends the run with its error, and is stopped.
    func testAStartFailureEndsTheRunAndStopsTheTask() async throws {
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka())
        let task = NumberedTask(topic: TestEnvironment.unique("nostart"), count: 1, failsToStart: true)
        do {
            try await SourceRunner(producer: producer).run(task)
            XCTFail("the run went on")
        } catch is NumberedTask.StartFailure {}
        await producer.close()
        XCTAssertTrue(task.state.value.stopped)
        XCTAssertEqual(task.state.value.polls, 0)
    }
}

/// Waits until `condition` holds; fails after a generous deadline (a guard against hangs).
func eventually(_ what: String, within seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else {
            XCTFail("timed out waiting for \(what)", file: file, line: line)
            throw PipelineError.other("timed out waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The batch number in a ``NumberedTask`` message's key `b<batch>-<index>`.
func batchNumber(_ message: KafkaMessage) -> Int {
    let key = String(decoding: message.key ?? [], as: UTF8.self)
    return Int(key.dropFirst().prefix { $0 != "-" }) ?? -1
}

/// A trivial source for the runner tests: batch `i` holds `size` messages
/// keyed `b<i>-<j>`, and its position is `i`. It records everything the
/// runner tells it, and checks as it goes that acknowledgements come oldest
/// first and that a commit never runs ahead of them.
final class NumberedTask: SourceTask, Sendable {
    typealias Position = Int

    struct State {
        var polls = 0
        var next = 0
        var inFlight: [Int] = []
        var acknowledged: [Int] = []
        /// At each commit, the last batch acknowledged before it.
        var commits: [Int] = []
        var failures: [(error: String, unsettled: Bool, acknowledged: Int?)] = []
        var started = false
        var stopped = false
        /// When a poll followed an idle wait.
        var idleWaits: [Duration] = []
        var idleSince: ContinuousClock.Instant?
        var problems: [String] = []
    }

    let topic: String
    let size: Int
    /// Batches to poll; then idle for `idle` (and poll nothing more). nil: endless.
    let count: Int?
    let idle: Duration
    /// Every `rangeEvery` batches, one completes a range.
    let rangeEvery: Int?
    /// Polls (by batch number) that throw once.
    let failingPolls: Set<Int>
    /// Whether ``failed(_:unsettled:)`` ends the run.
    let failureEndsRun: Bool
    /// Called before batch `i` is polled.
    let beforePoll: @Sendable (Int) async -> Void
    /// Whether ``start()`` throws.
    let failsToStart: Bool
    let state = Locked(State())

    init(
        topic: String, size: Int = 10, count: Int?, idle: Duration = .milliseconds(50), rangeEvery: Int? = nil,
        failingPolls: Set<Int> = [], failureEndsRun: Bool = true, failsToStart: Bool = false,
        beforePoll: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.failsToStart = failsToStart
        self.topic = topic
        self.size = size
        self.count = count
        self.idle = idle
        self.rangeEvery = rangeEvery
        self.failingPolls = failingPolls
        self.failureEndsRun = failureEndsRun
        self.beforePoll = beforePoll
    }

    struct PollFailure: Error, CustomStringConvertible {
        var batch: Int
        var description: String { "poll of batch \(batch) failed" }
    }

    /// `b<batch>-<index>`, 11 bytes; with its value, every message is 100 bytes.
    static func key(_ batch: Int, _ index: Int) -> String { "b" + String(format: "%06d-%03d", batch, index) }
    static func value(_ batch: Int, _ index: Int) -> String {
        let text = "value \(batch)-\(index) "
        return text + String(repeating: ".", count: 89 - text.utf8.count)
    }
    /// Key and value bytes of a batch of `size` messages.
    var batchBytes: Int { size * 100 }

    struct StartFailure: Error {}

    func start() async throws {
        state.withLock { $0.started = true }
        if failsToStart { throw StartFailure() }
    }

    func stop() async {
        state.withLock { $0.stopped = true }
    }

    func poll() async throws -> SourcePoll<Int> {
        let (batch, waited) = state.withLock { state -> (Int, Duration?) in
            state.polls += 1
            let waited = state.idleSince.map { ContinuousClock.now - $0 }
            state.idleSince = nil
            return (state.next, waited)
        }
        if let waited { state.withLock { $0.idleWaits.append(waited) } }
        if let count, batch >= count {
            state.withLock { $0.idleSince = .now }
            return .idle(until: .now + idle)
        }
        await beforePoll(batch)
        let fail = state.withLock { state -> Bool in
            guard failingPolls.contains(batch), !state.failures.contains(where: { $0.error == "\(PollFailure(batch: batch))" }) else { return false }
            return true
        }
        if fail { throw PollFailure(batch: batch) }
        if let rangeEvery, batch > 0, batch % rangeEvery == 0 {
            // The batch before completed a range: it must be acknowledged and committed by now.
            state.withLock { state in
                if state.commits.last != batch - 1 { state.problems.append("range up to \(batch - 1) not committed before poll \(batch)") }
            }
        }
        state.withLock { $0.next += 1 }
        let messages = (0..<size).map { index in
            KafkaMessage(topic: topic, key: Array(Self.key(batch, index).utf8), value: Array(Self.value(batch, index).utf8))
        }
        return .batch(SourceBatch(messages: messages, position: batch, completesRange: rangeEvery.map { (batch + 1) % $0 == 0 } ?? false))
    }

    func sent(_ position: Int, messages: Int, inFlight: Int) {
        state.withLock { state in
            if messages != size { state.problems.append("batch \(position) sent with \(messages) messages") }
            state.inFlight.append(inFlight)
        }
    }

    func acknowledged(_ position: Int, reports: [DeliveryReport]) {
        state.withLock { state in
            let expected = (state.acknowledged.last ?? -1) + 1
            if position != expected { state.problems.append("acknowledged \(position), expected \(expected)") }
            if reports.count != size || reports.contains(where: { $0.offset < 0 }) {
                state.problems.append("batch \(position): reports \(reports)")
            }
            state.acknowledged.append(position)
        }
    }

    func commit() async throws {
        state.withLock { state in
            guard let last = state.acknowledged.last else {
                state.problems.append("commit with nothing acknowledged")
                return
            }
            if let previous = state.commits.last, previous >= last { state.problems.append("commit of \(last) after \(previous): nothing new") }
            state.commits.append(last)
        }
    }

    func failed(_ error: any Error, unsettled: Bool) async throws {
        state.withLock { state in
            if state.commits.last != state.acknowledged.last {
                state.problems.append("failed before the acknowledged prefix \(state.acknowledged.last ?? -1) was committed")
            }
            state.failures.append(("\(error)", unsettled, state.acknowledged.last))
            // What follows the prefix is polled again, as a source re-reads from its committed position.
            state.next = (state.acknowledged.last ?? -1) + 1
        }
        if failureEndsRun { throw error }
    }
}

/// Every message in `topic`, read up to the high watermarks without a consumer group.
func readTopic(_ topic: String, kafka: KafkaConfiguration) async throws -> [KafkaMessage] {
    let admin = try KafkaAdmin(configuration: kafka)
    var ranges: [TopicPartition: Range<Int64>] = [:]
    for partition in try await admin.topics().first(where: { $0.name == topic })?.partitions ?? [] {
        let tp = TopicPartition(topic, partition.partition)
        let marks = try await admin.watermarks(tp)
        ranges[tp] = marks.low..<marks.high
    }
    return try await KafkaRangeReader.read(configuration: kafka, ranges: ranges)
}

/// The keys of `messages`, as text.
func keys(_ messages: [KafkaMessage]) -> [String] {
    messages.map { String(decoding: $0.key ?? [], as: UTF8.self) }
}

/// The keys of batches `range` of a ``NumberedTask``.
func keys(batches range: Range<Int>, size: Int) -> [String] {
    range.flatMap { batch in (0..<size).map { NumberedTask.key(batch, $0) } }
}
