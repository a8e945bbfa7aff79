import Foundation
@testable import PipelineCore
import XCTest

/// How a consumer keeps fetching while its queue drains (``FetchWakeup``)
/// and how a poll fills its batch (`fill`).
final class ConsumerFetchTests: XCTestCase {
    func testTheLeadersAreWokenOnceAQuarterOfTheQueueIsConsumed() {
        var wakeup = FetchWakeup(queuedMaxKilobytes: 16, queuedMinMessages: 100_000)
        XCTAssertEqual(wakeup.bytesPerWake, 4096)
        XCTAssertFalse(wakeup.consumed(0, bytes: 0), "nothing consumed: nothing sent")
        XCTAssertFalse(wakeup.consumed(10, bytes: 4000))
        XCTAssertTrue(wakeup.consumed(1, bytes: 96))
        XCTAssertFalse(wakeup.consumed(10, bytes: 4095), "the counts start again after a wake-up")
        XCTAssertTrue(wakeup.consumed(10, bytes: 10_000))
        XCTAssertFalse(wakeup.consumed(1, bytes: 1))
    }

    /// Small records fill the queue by count (`queued.min.messages`) first.
    func testSmallRecordsWakeTheLeadersByCount() {
        var wakeup = FetchWakeup(queuedMaxKilobytes: 65536, queuedMinMessages: 1000)
        XCTAssertEqual(wakeup.recordsPerWake, 250)
        XCTAssertFalse(wakeup.consumed(249, bytes: 2490))
        XCTAssertTrue(wakeup.consumed(1, bytes: 10))
        XCTAssertFalse(wakeup.consumed(249, bytes: 2490), "the counts start again after a wake-up")
    }

    /// A queue of 16 KiB fills a few hundred times over 3,000 records: the
    /// wake-ups in between must neither lose, repeat nor reorder any.
    func testAConsumerWhoseQueueFillsOftenReadsEveryRecordOnceInOrder() async throws {
        let kafka = try TestEnvironment.consumerKafka()
        let topic = TestEnvironment.unique("small-queue")
        let count = 3000
        let producer = try KafkaProducer(configuration: kafka)
        let padding = String(repeating: "x", count: 100)
        _ = try await producer.send(numberedMessages(topic: topic, count: count, prefix: padding))
        await producer.close()
        let consumer = try KafkaConsumer(
            configuration: kafka.with(["queued.max.messages.kbytes": "16"]), groupID: TestEnvironment.unique("small-queue-group"),
            topics: [topic])
        let messages = try await consumer.drain(count: count, within: 120)
        await consumer.close()
        XCTAssertEqual(messages.count, count)
        XCTAssertEqual(Set(messages.map { String(decoding: $0.value ?? [], as: UTF8.self) }).count, count, "each record once")
        for partition in Set(messages.map(\.partition)) {
            let offsets = messages.filter { $0.partition == partition }.map(\.offset)
            XCTAssertEqual(offsets, Array(0..<Int64(offsets.count)), "partition \(partition) in order, without gaps")
        }
    }

    /// With a fill time the poll waits for records that arrive after its
    /// first one; without one it returns what had arrived.
    func testAPollKeepsFillingItsBatchForTheFillTime() async throws {
        let kafka = try TestEnvironment.consumerKafka()
        let topic = TestEnvironment.unique("fill")
        let producer = try KafkaProducer(configuration: kafka)
        let consumer = try KafkaConsumer(configuration: kafka, groupID: TestEnvironment.unique("fill-group"), topics: [topic])
        _ = try await producer.send(numberedMessages(topic: topic, count: 1, prefix: "joined"))
        let joined = try await consumer.drain(count: 1, within: 30)
        XCTAssertEqual(joined.count, 1, "the member joined and reads")

        _ = try await producer.send(numberedMessages(topic: topic, count: 1, prefix: "first"))
        let filling = Task { try await consumer.poll(maxMessages: 10, timeout: .seconds(10), fill: .seconds(4)) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await producer.send(numberedMessages(topic: topic, count: 1, prefix: "second"))
        let filled = try await filling.value
        XCTAssertEqual(filled.map { String(decoding: $0.value ?? [], as: UTF8.self) }, ["first-0", "second-0"])

        _ = try await producer.send(numberedMessages(topic: topic, count: 1, prefix: "third"))
        let unfilled = try await consumer.poll(maxMessages: 10, timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(300))
        _ = try await producer.send(numberedMessages(topic: topic, count: 1, prefix: "fourth"))
        XCTAssertEqual(unfilled.map { String(decoding: $0.value ?? [], as: UTF8.self) }, ["third-0"])
        let fourth = try await consumer.drain(count: 1, within: 30)
        XCTAssertEqual(fourth.count, 1)
        await consumer.close()
        await producer.close()
    }
}
