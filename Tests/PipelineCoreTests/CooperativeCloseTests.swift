import Foundation
import PipelineCore
import XCTest

/// A cooperative-sticky consumer (the MySQL sink's) closed while it joins its
/// group, before its first assignment: librdkafka before 2.3 aborts the whole
/// process in rd_kafka_consumer_close there (`rd_kafka_sticky_assignor_state_destroy:
/// Assertion 'assignor_state' failed`, librdkafka issue 4312). A REST call
/// pausing a MySQL sink right after creating it hit that window and took
/// the worker down.
final class CooperativeCloseTests: XCTestCase {
    /// Before the fix this aborted the test process within its first few
    /// seconds; with it, each close waits for the member's first assignment.
    func testClosingWhileJoiningDoesNotAbort() async throws {
        let kafka = try TestEnvironment.consumerKafka().with(["partition.assignment.strategy": "cooperative-sticky"])
        let topic = TestEnvironment.unique("coop")
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka())
        _ = try await producer.send(KafkaMessage(topic: topic, key: nil, value: Array("x".utf8)))
        await producer.close()
        // One group, its member closed and started again and again, as a sink paused and resumed.
        let group = TestEnvironment.unique("coop-group")
        // Four closes (each waits out a ~3 s join) at different points of the
        // join: without the fix the first ones already aborted; sixteen took 78 s.
        for step in 0..<4 {
            let consumer = try KafkaConsumer(configuration: kafka, groupID: group, topics: [topic])
            _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(150 * step))
            await consumer.close()
        }
    }
}
