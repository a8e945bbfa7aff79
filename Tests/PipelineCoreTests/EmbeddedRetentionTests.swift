import Foundation
import PipelineCore
import XCTest

/// What the in-process cluster keeps, and how its clients keep records from
/// being pruned before this process's consumers read them.
final class EmbeddedRetentionTests: XCTestCase {
    /// The limits ``BacklogLimiter`` works with hold for the real broker: a
    /// partition keeps what the limiter lets through, and prunes once
    /// clearly more than ``EmbeddedKafka/retainedBytesPerPartition`` arrived.
    func testAPartitionKeepsFiveMiBOfBatches() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("kept", partitions: 1)
        // Not cluster.configuration: nothing may hold this producer back.
        let plain = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: plain.with(["linger.ms": "0"]))
        let admin = try KafkaAdmin(configuration: plain)
        let tp = TopicPartition("kept", 0)
        let value = [UInt8](repeating: 0x61, count: 1000)
        var sent = 0
        // Up to 1.5 x the limit the limiter allows (itself half of what is kept): nothing pruned.
        let allowed = BacklogLimiter.Limits.embedded.bytesPerPartition * 3 / 2
        while sent * BacklogLimiter.storedBytes(KafkaMessage(topic: "kept", key: nil, value: value)) < allowed {
            _ = try await producer.send((0..<100).map { _ in KafkaMessage(topic: "kept", key: nil, value: value) })
            sent += 100
        }
        let kept = try await admin.watermarks(tp)
        XCTAssertEqual(kept.low, 0, "pruned after \(sent) records of 1 KB")
        // Well past 5 MiB, the start is pruned.
        for _ in 0..<40 {
            _ = try await producer.send((0..<100).map { _ in KafkaMessage(topic: "kept", key: nil, value: value) })
            sent += 100
        }
        let marks = try await admin.watermarks(tp)
        XCTAssertGreaterThan(marks.low, 0, "nothing pruned after \(sent) records of 1 KB")
        let batched = try await admin.watermarks(topic: "kept", partitions: [0])
        XCTAssertEqual(batched[0]?.low, marks.low, "the batched query sees the pruned start too")
        XCTAssertEqual(batched[0]?.high, marks.high)
        let retainedBytes = Int(marks.high - marks.low) * 1000
        XCTAssertLessThanOrEqual(retainedBytes, EmbeddedKafka.retainedBytesPerPartition)
        XCTAssertGreaterThan(retainedBytes, EmbeddedKafka.retainedBytesPerPartition * 9 / 10)
        await producer.close()
    }

    func testPartitionEstimateKeepsEachShareAQuarterOfWhatIsKept() {
        let kept = Int64(EmbeddedKafka.retainedBytesPerPartition)
        XCTAssertEqual(EmbeddedKafka.partitions(forBacklogBytes: 0), EmbeddedKafka.defaultPartitions)
        XCTAssertEqual(EmbeddedKafka.partitions(forBacklogBytes: kept), EmbeddedKafka.defaultPartitions)
        XCTAssertEqual(EmbeddedKafka.partitions(forBacklogBytes: 10 * kept), 40)
        XCTAssertEqual(EmbeddedKafka.partitions(forBacklogBytes: 10 * kept + 1), 41)
        XCTAssertEqual(EmbeddedKafka.partitions(forBacklogBytes: 1 << 40), EmbeddedKafka.maximumEstimatedPartitions)
    }

    /// The producer stops when the in-process group lags by the limit and
    /// goes on as the group consumes; the group reads every record.
    func testProducerWaitsForTheSlowestInProcessConsumer() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("held", partitions: 1)
        let kafka = cluster.configuration
        let consumer = try KafkaConsumer(configuration: kafka.with(["session.timeout.ms": "6000"]), groupID: "slow", topics: ["held"])
        let producer = try KafkaProducer(configuration: kafka)
        let value = [UInt8](repeating: 0x62, count: 1000)
        let batch = (0..<100).map { _ in KafkaMessage(topic: "held", key: nil, value: value) }
        let perBatch = batch.map(BacklogLimiter.storedBytes).reduce(0, +)
        let batchesAllowed = cluster.backlog.limits.bytesPerPartition / perBatch
        let total = 3 * batchesAllowed

        let sent = Locked(0)
        let sending = Task {
            for _ in 0..<total {
                _ = try await producer.send(batch)
                sent.withLock { $0 += 1 }
            }
        }
        // Not yet joined, the group counts as being at offset 0: the producer stops at the limit.
        let reachable = Date().addingTimeInterval(30)
        while sent.value < batchesAllowed && Date() < reachable { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertEqual(sent.value, batchesAllowed, "the producer did not stop at the limit")
        let lag = try XCTUnwrap(cluster.backlog.worstLag(topic: "held"))
        XCTAssertLessThanOrEqual(lag.bytes, Int64(cluster.backlog.limits.bytesPerPartition))

        // 3 x the limit is more than the partition keeps: without the wait,
        // the first records would be pruned before the group read them.
        var received: [Int64] = []
        let deadline = Date().addingTimeInterval(60)
        while received.count < total * 100 && Date() < deadline {
            received += try await consumer.poll(maxMessages: 500, timeout: .milliseconds(200)).map(\.offset)
        }
        try await sending.value
        XCTAssertEqual(received, Array(0..<Int64(total * 100)))
        let marks = try await KafkaAdmin(configuration: kafka).watermarks(TopicPartition("held", 0))
        XCTAssertGreaterThan(marks.low, 0, "the test wrote too little to be pruned without the wait")
        await consumer.close()
        // The group left: nothing holds the producer back any more.
        XCTAssertNil(cluster.backlog.worstLag(topic: "held"))
        await producer.close()
    }

    /// On the in-process cluster, a group without a committed offset on a
    /// pruned log fails, naming the lost range.
    func testNoCommittedOffsetOnAPrunedLogFailsOnTheEmbeddedBroker() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("gone", partitions: 1)
        try await fillUntilPruned(cluster, topic: "gone")
        let low = try await KafkaAdmin(configuration: cluster.configuration).watermarks(TopicPartition("gone", 0)).low

        let consumer = try KafkaConsumer(configuration: cluster.configuration.with(["session.timeout.ms": "6000"]), groupID: "late", topics: ["gone"])
        do {
            _ = try await consumer.drain(count: 1, within: 30)
            XCTFail("starting past pruned records must fail on the embedded broker")
        } catch let error as PipelineError {
            XCTAssertEqual(error, .recordsPruned(TopicPartition("gone", 0), committed: 0, logStart: low))
            XCTAssertTrue(error.description.contains("gone-0 offsets 0..<\(low)"), error.description)
            XCTAssertTrue(error.description.contains("re-snapshot"), error.description)
        }
        await consumer.close()
    }

    /// On another broker (retention is normal there) it is a warning, and the group starts at the log start.
    func testNoCommittedOffsetOnAPrunedLogOfAnotherBrokerStartsAtTheLogStart() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("retained", partitions: 1)
        try await fillUntilPruned(cluster, topic: "retained")
        let plain = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let low = try await KafkaAdmin(configuration: plain).watermarks(TopicPartition("retained", 0)).low
        let consumer = try KafkaConsumer(configuration: plain.with(["session.timeout.ms": "6000"]), groupID: "late", topics: ["retained"])
        let first = try await consumer.drain(count: 1, within: 30)
        XCTAssertEqual(first.first?.offset, low)
        await consumer.close()
    }

    /// Writes 1 KB records with a producer nothing holds back until the partition's start is pruned.
    private func fillUntilPruned(_ cluster: EmbeddedKafka, topic: String) async throws {
        let plain = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: plain)
        let admin = try KafkaAdmin(configuration: plain)
        let value = [UInt8](repeating: 0x63, count: 1000)
        for _ in 0..<200 {
            _ = try await producer.send((0..<100).map { _ in KafkaMessage(topic: topic, key: nil, value: value) })
            if try await admin.watermarks(TopicPartition(topic, 0)).low > 0 { break }
        }
        await producer.close()
        let low = try await admin.watermarks(TopicPartition(topic, 0)).low
        XCTAssertGreaterThan(low, 0, "the broker did not prune")
    }
}
