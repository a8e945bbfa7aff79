import Foundation
import PipelineCore
import XCTest

/// ``SourceRunner`` with a slow broker and failing sends: these need the
/// mock cluster's in-process API, so they run their own embedded cluster.
final class SourceRunnerFaultTests: XCTestCase {
    /// A cluster whose every round trip takes `rtt` ms, and a topic on it.
    private func slowCluster(rtt: Int, topic: String) throws -> (EmbeddedKafka, KafkaConfiguration) {
        let cluster = try EmbeddedKafka(brokers: 1)
        try cluster.createTopic(topic, partitions: 4)
        for id in cluster.brokerIDs { try cluster.setRoundTripTime(broker: id, milliseconds: rtt) }
        return (cluster, KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
    }

    /// With 20 ms per round trip, a runner waiting for each batch would have
    /// one in flight; this one fills its window, never beyond its limits,
    /// and commits during the run, never past an acknowledged batch.
    func testTheWindowFillsUpToItsLimitsWhileTheBrokerIsSlow() async throws {
        let (cluster, kafka) = try slowCluster(rtt: 20, topic: "slow")
        defer { cluster.close() }
        for limits in [SourceRunner.WindowLimits(batches: 16, bytes: 8 << 20), SourceRunner.WindowLimits(batches: 64, bytes: 4_500)] {
            let producer = try KafkaProducer(configuration: kafka)
            let task = NumberedTask(topic: "slow", count: 120)
            let runner = SourceRunner(producer: producer, limits: limits, commitInterval: .milliseconds(50))
            let run = Task { try await runner.run(task) }
            try await eventually("120 batches acknowledged") { task.state.value.acknowledged.count == 120 }
            run.cancel()
            try await run.value
            await producer.close()

            let state = task.state.value
            XCTAssertEqual(state.problems, [], "\(limits)")
            XCTAssertEqual(state.acknowledged, Array(0..<120))
            let most = min(limits.batches, limits.bytes / task.batchBytes)
            XCTAssertEqual(state.inFlight.max(), most, "batches in flight at once (\(limits))")
            XCTAssertGreaterThan(state.commits.count, 2, "commits while batches flow (\(limits))")
            XCTAssertEqual(state.commits.last, 119)
        }
    }

    /// A Produce request fails (MSG_SIZE_TOO_LARGE, which librdkafka does not
    /// retry) while many batches are in flight: the task is told that what
    /// follows the acknowledged prefix may be in Kafka, the prefix was
    /// committed before, and every record in it is in the topic.
    func testASendFailureMidWindowReportsTheAcknowledgedPrefix() async throws {
        let (cluster, kafka) = try slowCluster(rtt: 20, topic: "failing")
        defer { cluster.close() }
        let producer = try KafkaProducer(configuration: kafka)
        // Once the window is full, the runner takes acknowledgements to make
        // room: by the time it polls batch 100, batches 0…35 are acknowledged.
        let task = NumberedTask(topic: "failing", count: 200) { batch in
            if batch == 100 { cluster.pushRequestErrors(apiKey: 0, errors: [10]) }
        }
        do {
            try await SourceRunner(producer: producer).run(task)
            XCTFail("the run went on after a failed send")
        } catch {
            XCTAssertTrue("\(error)".contains("failing"), "the error names the topic: \(error)")
        }
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [], "acknowledged oldest first, committed before the failure")
        XCTAssertEqual(state.failures.count, 1)
        let failure = try XCTUnwrap(state.failures.first)
        XCTAssertTrue(failure.unsettled, "batches past the prefix were sent")
        let prefix = (failure.acknowledged ?? -1) + 1
        XCTAssertGreaterThanOrEqual(prefix, 36, "the batches before the injected error were acknowledged")
        XCTAssertLessThan(prefix, state.inFlight.count, "the failed batch is not acknowledged")
        XCTAssertEqual(state.commits.last.map { $0 + 1 } ?? 0, prefix, "the prefix was committed")
        XCTAssertTrue(state.stopped)
        let inTopic = Set(keys(try await readTopic("failing", kafka: kafka)))
        XCTAssertTrue(Set(keys(batches: 0..<prefix, size: 10)).isSubset(of: inTopic), "an acknowledged record is missing")
        XCTAssertFalse(Set(keys(batches: prefix..<(prefix + 1), size: 10)).isSubset(of: inTopic), "the first failed batch is in the topic")
    }

    /// Cancelling the run while batches are in flight is a graceful stop:
    /// no more polls, every batch sent is acknowledged and committed, and the
    /// topic holds exactly those.
    func testCancellingDrainsTheWindowAndCommits() async throws {
        let (cluster, kafka) = try slowCluster(rtt: 20, topic: "stop")
        defer { cluster.close() }
        let producer = try KafkaProducer(configuration: kafka)
        let task = NumberedTask(topic: "stop", count: nil)
        let run = Task { try await SourceRunner(producer: producer).run(task) }
        try await eventually("a full window") { (task.state.value.inFlight.last ?? 0) >= 32 }
        run.cancel()
        try await run.value
        await producer.close()

        let state = task.state.value
        XCTAssertEqual(state.problems, [])
        XCTAssertEqual(state.failures.count, 0)
        XCTAssertEqual(state.inFlight.count, state.acknowledged.count, "a batch sent was not acknowledged")
        XCTAssertEqual(state.acknowledged, Array(0..<state.next))
        XCTAssertEqual(state.commits.last, state.next - 1, "the stop committed everything acknowledged")
        XCTAssertTrue(state.stopped)
        let messages = try await readTopic("stop", kafka: kafka)
        XCTAssertEqual(keys(messages).sorted(), keys(batches: 0..<state.next, size: 10).sorted())
    }
}
