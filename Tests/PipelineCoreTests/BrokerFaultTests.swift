import Foundation
import PipelineCore
import XCTest

/// Fault injection needs the mock cluster's in-process API, so these tests
/// run their own embedded cluster.
final class BrokerFaultTests: XCTestCase {
    func testBrokersDownMidStreamStillDeliverEveryMessageExactlyOnce() async throws {
        let cluster = try EmbeddedKafka(brokers: 3)
        defer { cluster.close() }
        let topic = "faults"
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 3)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)

        async let firstHalf = producer.send(numberedMessages(topic: topic, count: 10_000, prefix: "a"))
        // Take every broker down for a few seconds while batches are in flight,
        // and make some produce requests fail with retriable errors.
        try await Task.sleep(for: .milliseconds(20))
        // First every Produce request is refused for a moment (NOT_ENOUGH_REPLICAS:
        // not appended, retried by the producer), so none is appended with its
        // answer lost as the brokers go: the test broker would append its retry
        // again (it checks producer sequences only for transactional producers),
        // where Kafka drops it as a duplicate.
        cluster.pushRequestErrors(apiKey: 0, errors: Array(repeating: 19, count: 1_000))
        try await Task.sleep(for: .milliseconds(300))
        for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }
        async let secondHalf = producer.send(numberedMessages(topic: topic, count: 10_000, prefix: "b"))
        try await Task.sleep(for: .seconds(3))
        cluster.clearRequestErrors(apiKey: 0)
        cluster.pushRequestErrors(apiKey: 0, errors: [6, 7, 6])  // NOT_LEADER, REQUEST_TIMED_OUT
        for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
        let reports = try await firstHalf + secondHalf
        XCTAssertEqual(reports.count, 20_000)
        await producer.close()

        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: "faults-group", topics: [topic])
        let messages = try await consumer.drain(count: 20_000, within: 90)
        let extra = try await consumer.poll(maxMessages: 1000, timeout: .seconds(1))
        await consumer.close()
        let values = (messages + extra).map { String(decoding: $0.value!, as: UTF8.self) }
        XCTAssertEqual(values.count, 20_000, "duplicates or losses")
        XCTAssertEqual(Set(values).count, 20_000)
    }

    func testCommittedOffsetBelowLogStartFailsLoudly() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        let topic = "pruned"
        try cluster.createTopic(topic, partitions: 1, replicationFactor: 1)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka.with(["linger.ms": "0"]))
        _ = try await producer.send(KafkaMessage(topic: topic, key: nil, value: Array("first".utf8)))

        let group = "pruned-group"
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        let first = try await consumer.drain(count: 1)
        XCTAssertEqual(first.count, 1)
        try await consumer.commit(nextOffsets(first))
        await consumer.close()

        // The mock broker keeps about 5 MiB per partition: write 8 MiB so offset 1 is pruned.
        let payload = [UInt8](repeating: 0x61, count: 64 * 1024)
        for _ in 0..<8 {
            _ = try await producer.send((0..<16).map { _ in KafkaMessage(topic: topic, key: nil, value: payload) })
        }
        await producer.close()
        let admin = try KafkaAdmin(configuration: kafka)
        let marks = try await admin.watermarks(TopicPartition(topic, 0))
        XCTAssertGreaterThan(marks.low, 1, "the broker did not prune; the test needs more data")

        let resumed = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        do {
            _ = try await resumed.drain(count: 1, within: 30)
            XCTFail("resuming below the log start must fail")
        } catch let error as PipelineError {
            guard case .recordsPruned(let tp, let committed, let logStart) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tp, TopicPartition(topic, 0))
            XCTAssertEqual(committed, 1)
            XCTAssertEqual(logStart, marks.low)
            XCTAssertTrue(error.description.contains("records pruned before they were consumed"))
        }
        await resumed.close()
    }

    func testStoredOffsetsFromTheHookWin() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("hooked", partitions: 1, replicationFactor: 1)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: "hooked", count: 10))
        await producer.close()
        let revoked = Locked<[TopicPartition]>([])
        let hooks = RebalanceHooks(
            assigned: { tps in Dictionary(uniqueKeysWithValues: tps.map { ($0, Int64(7)) }) },
            revoked: { tps in revoked.withLock { $0 += tps } })
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: "hooked-group", topics: ["hooked"], hooks: hooks)
        let messages = try await consumer.drain(count: 3)
        XCTAssertEqual(messages.map(\.offset), [7, 8, 9])
        await consumer.close()
        XCTAssertEqual(revoked.value, [TopicPartition("hooked", 0)])
    }

    /// With every broker down, a watermark read gives up with an error after
    /// its timeout. librdkafka 2.0's `rd_kafka_query_watermark_offsets` waited
    /// for an answer forever there (librdkafka#2588, fixed in 2.3): a sink
    /// assigned while the broker was away hung on its consumer thread.
    func testWatermarksWithEveryBrokerDownFailInsteadOfWaitingForever() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        let topic = "marks-down"
        try cluster.createTopic(topic, partitions: 2, replicationFactor: 1)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        _ = try await admin.watermarks(TopicPartition(topic, 0))  // connected, the leader known
        for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }

        let outcome = Locked<String?>(nil)
        Task {
            do {
                let marks = try await admin.watermarks(TopicPartition(topic, 1))
                outcome.withLock { $0 = "answered \(marks)" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
        }
        // Bounded: the call's own timeout is 10 s per marker. On a timeout the
        // call still holds the client, so the cluster is left up, not pulled from under it.
        try await eventually("watermarks(\(topic)[1]) to return with the broker down", within: 60) { outcome.value != nil }
        let result = outcome.value ?? ""
        XCTAssertTrue(result.contains(topic), "the error names the partition: \(result)")
        for id in cluster.brokerIDs { try cluster.setBrokerUp(id) }
        let marks = try await admin.watermarks(TopicPartition(topic, 1))
        XCTAssertEqual(marks.high, 0)
        cluster.close()
    }

    /// A consumer closed while every broker is away still closes (a graceful
    /// stop during an outage must end), after its own timeouts.
    func testAConsumerClosesWithEveryBrokerDown() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        let topic = "close-down"
        try cluster.createTopic(topic, partitions: 2, replicationFactor: 1)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(KafkaMessage(topic: topic, key: nil, value: Array("one".utf8)))
        await producer.close()
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: "close-down-group", topics: [topic])
        let first = try await consumer.drain(count: 1)
        XCTAssertEqual(first.count, 1)
        for id in cluster.brokerIDs { try cluster.setBrokerDown(id) }

        let closed = Locked(false)
        Task {
            await consumer.close()
            closed.withLock { $0 = true }
        }
        try await eventually("close() to return with every broker down", within: 90) { closed.value }
        cluster.close()
    }
}
