import Foundation
import PipelineCore
import XCTest

/// Static group membership (KIP-345) on the embedded broker: a member that
/// comes back under the same `group.instance.id` owns its partitions again
/// without waiting for the old session to time out.
final class StaticMembershipTests: XCTestCase {
    func testAMemberBackUnderTheSameInstanceIDOwnsItsPartitionsBeforeTheSessionTimesOut() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("static")
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: topic, count: 40))
        await producer.close()
        let group = TestEnvironment.unique("static-group")
        // The session outlasts the whole test: only static membership can hand the partitions back in time.
        let settings = kafka.with(["session.timeout.ms": "30000"]).staticMember(of: group)

        let first = try KafkaConsumer(configuration: settings, groupID: group, topics: [topic])
        let before = try await first.drain(count: 40, within: 30)
        XCTAssertEqual(before.count, 40)
        let owned = try await first.assignment()
        XCTAssertEqual(owned.count, 4)
        // A static member sends no LeaveGroup: to the group this is a crash.
        await first.close()

        let started = Date()
        let second = try KafkaConsumer(configuration: settings, groupID: group, topics: [topic])
        while try await second.assignment().count < 4 && Date().timeIntervalSince(started) < 25 {
            _ = try await second.poll(maxMessages: 100, timeout: .milliseconds(100))
        }
        let elapsed = Date().timeIntervalSince(started)
        let regained = try await second.assignment()
        await second.close()
        print("static member owned \(regained.count) partitions again after \(String(format: "%.2f", elapsed)) s")
        XCTAssertEqual(regained, owned)
        XCTAssertLessThan(elapsed, 10, "partitions came back only after the old session timed out")
    }
}
