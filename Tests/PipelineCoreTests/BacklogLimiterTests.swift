import PipelineCore
import XCTest

/// The limiter's bookkeeping, without a broker.
final class BacklogLimiterTests: XCTestCase {
    let limits = BacklogLimiter.Limits(bytesPerPartition: 1_000, recordsPerPartition: 50)

    /// Appends `records` records of `bytes` each to partition 0 of `topic`, as the producer does.
    private func produce(_ limiter: BacklogLimiter, _ topic: String, records: Int, bytes: Int, from offset: Int64) async throws {
        try await limiter.waitForRoom(topic: topic, bytes: records * bytes, records: records)
        limiter.delivered(topic: topic, (0..<records).map { (0, offset + Int64($0), bytes) }, bytes: records * bytes, records: records)
    }

    /// Whether `waitForRoom` returns within a short while.
    private func hasRoom(_ limiter: BacklogLimiter, _ topic: String, bytes: Int, records: Int) async -> Bool {
        let attempt = Task { try await limiter.waitForRoom(topic: topic, bytes: bytes, records: records) }
        let timeout = Task {
            try await Task.sleep(for: .milliseconds(200))
            attempt.cancel()
        }
        defer { timeout.cancel() }
        guard (try? await attempt.value) != nil else { return false }
        limiter.delivered(topic: topic, [], bytes: bytes, records: records)
        return true
    }

    func testTopicsWithoutInProcessConsumersAreNeverHeldBack() async throws {
        let limiter = BacklogLimiter(limits: limits)
        try await produce(limiter, "dlq", records: 40, bytes: 100, from: 0)
        let roomLeft = await hasRoom(limiter, "dlq", bytes: 10_000, records: 1)
        XCTAssertTrue(roomLeft)
        XCTAssertNil(limiter.worstLag(topic: "dlq"))
    }

    func testSlowestGroupHoldsBackUntilItConsumes() async throws {
        let limiter = BacklogLimiter(limits: limits)
        let fast = limiter.register(group: "fast", topics: ["t"])
        let slow = limiter.register(group: "slow", topics: ["^t.*"])  // regex subscription
        try await produce(limiter, "t", records: 9, bytes: 100, from: 0)
        limiter.assigned(fast, [TopicPartition("t", 0): -2])
        limiter.consumed(fast, [TopicPartition("t", 0): 9])
        // "slow" has no position yet: it counts as at offset 0, 900 bytes behind.
        XCTAssertEqual(limiter.worstLag(topic: "t"), .init(partition: TopicPartition("t", 0), records: 9, bytes: 900))
        let blocked = await hasRoom(limiter, "t", bytes: 200, records: 2)
        XCTAssertFalse(blocked, "1,100 bytes would be unconsumed by the slow group")
        let fits = await hasRoom(limiter, "t", bytes: 100, records: 1)
        XCTAssertTrue(fits)
        limiter.assigned(slow, [TopicPartition("t", 0): 0])
        limiter.consumed(slow, [TopicPartition("t", 0): 5])
        let resumed = await hasRoom(limiter, "t", bytes: 200, records: 2)
        XCTAssertTrue(resumed)
        // The slow group leaves: only the fast one counts.
        limiter.unregister(slow)
        XCTAssertEqual(limiter.worstLag(topic: "t")?.records, 0)
    }

    func testAGroupStartingAtTheEndIsNotBehind() async throws {
        let limiter = BacklogLimiter(limits: limits)
        let late = limiter.register(group: "late", topics: ["t"])
        try await produce(limiter, "t", records: 9, bytes: 100, from: 0)
        limiter.assigned(late, [TopicPartition("t", 0): -1])  // auto.offset.reset=latest
        XCTAssertEqual(limiter.worstLag(topic: "t")?.records, 0)
    }

    func testOneOversizedSendPassesWhenNothingIsUnconsumed() async throws {
        let limiter = BacklogLimiter(limits: limits)
        _ = limiter.register(group: "g", topics: ["t"])
        let passes = await hasRoom(limiter, "t", bytes: 5_000, records: 1)
        XCTAssertTrue(passes, "a send larger than the limit must not wait forever")
    }

    func testRecordCountLimitsToo() async throws {
        let limiter = BacklogLimiter(limits: limits)
        _ = limiter.register(group: "g", topics: ["t"])
        try await produce(limiter, "t", records: 45, bytes: 1, from: 0)
        let blocked = await hasRoom(limiter, "t", bytes: 10, records: 10)
        XCTAssertFalse(blocked, "55 unconsumed records exceed 50")
    }

    func testJoinWaitsForEveryConsumersFirstAssignment() async throws {
        let limiter = BacklogLimiter(limits: limits)
        let a = limiter.register(group: "a", topics: ["t"])
        _ = limiter.register(group: "b", topics: ["t"])
        limiter.assigned(a, [:])
        let early = try await limiter.waitUntilJoined(consumers: 2, timeout: .milliseconds(100))
        XCTAssertFalse(early)
        let one = try await limiter.waitUntilJoined(consumers: 1, timeout: .milliseconds(100))
        XCTAssertTrue(one)
    }
}
