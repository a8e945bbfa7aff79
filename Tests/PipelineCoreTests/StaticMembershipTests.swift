import Foundation
import PipelineCore
import XCTest

/// Group-member settings for fast recovery after a crash.
final class StaticMembershipTests: XCTestCase {
    func testStaticMemberIDIsStableAndTheUsersOwnWins() {
        let kafka = KafkaConfiguration(bootstrapServers: "b:9092")
        XCTAssertEqual(kafka.staticMember(of: "connect-users").properties["group.instance.id"], "connect-users-0")
        XCTAssertEqual(kafka.staticMember(of: "connect-users", task: 2).properties["group.instance.id"], "connect-users-2")
        let own = kafka.with(["group.instance.id": "mine"])
        XCTAssertEqual(own.staticMember(of: "connect-users").properties["group.instance.id"], "mine")
    }

    /// librdkafka 2.0's mock cluster ignores `group.instance.id` (a member
    /// back under the same id still waits for the old session to expire), so
    /// on the embedded broker a member gets a short session instead.
    /// It also gets a short fetch wait: the mock holds a fetch that found
    /// nothing for the whole wait, records arriving meanwhile included.
    func testTheEmbeddedBrokerGetsAShortSessionAndFetchWaitUnlessConfigured() async throws {
        let kafka = try TestEnvironment.kafka()
        let tuned = await kafka.forGroupMember()
        XCTAssertEqual(
            tuned.properties["session.timeout.ms"], String(KafkaConfiguration.embeddedBrokerSessionTimeoutMilliseconds))
        XCTAssertEqual(tuned.properties["fetch.wait.max.ms"], String(KafkaConfiguration.embeddedBrokerFetchWaitMilliseconds))
        let configured = await kafka.with(["session.timeout.ms": "6000"]).forGroupMember()
        XCTAssertEqual(configured.properties["session.timeout.ms"], "6000")
        XCTAssertEqual(configured.properties["fetch.wait.max.ms"], String(KafkaConfiguration.embeddedBrokerFetchWaitMilliseconds))
        let bothSet = await kafka.with(["session.timeout.ms": "6000", "fetch.wait.max.ms": "200"]).forGroupMember()
        XCTAssertEqual(bothSet.properties["fetch.wait.max.ms"], "200")
        // Not the mock cluster (nothing listens here): unchanged.
        let elsewhere = await KafkaConfiguration(bootstrapServers: "127.0.0.1:1").forGroupMember()
        XCTAssertNil(elsewhere.properties["session.timeout.ms"])
        XCTAssertNil(elsewhere.properties["fetch.wait.max.ms"])
    }

    /// A member on the short session joins and owns its partitions as usual
    /// (below about 3 s the mock's joins hang).
    func testAMemberWithTheEmbeddedBrokersSessionJoins() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("short-session")
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: topic, count: 40))
        await producer.close()
        let group = TestEnvironment.unique("short-session-group")
        let consumer = try KafkaConsumer(
            configuration: await kafka.staticMember(of: group).forGroupMember(), groupID: group, topics: [topic])
        let messages = try await consumer.drain(count: 40, within: 20)
        await consumer.close()
        XCTAssertEqual(messages.count, 40)
    }
}

/// The MySQL sink joins with `cooperative-sticky`: on the embedded broker a
/// second member takes over half the partitions while the first keeps the
/// rest without a full revoke.
final class CooperativeRebalanceTests: XCTestCase {
    func testASecondMemberTakesHalfWhileTheFirstKeepsItsOwn() async throws {
        let kafka = try TestEnvironment.kafka().with(TestEnvironment.consumerProperties)
            .with(["partition.assignment.strategy": "cooperative-sticky"])
        let topic = TestEnvironment.unique("cooperative")
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: topic, count: 40))
        await producer.close()
        let group = TestEnvironment.unique("cooperative-group")
        let revoked = Locked<[[TopicPartition]]>([])
        let first = try KafkaConsumer(
            configuration: kafka, groupID: group, topics: [topic],
            hooks: RebalanceHooks(revoked: { partitions in revoked.withLock { $0.append(partitions) } }))
        _ = try await first.drain(count: 40, within: 20)
        let all = try await first.assignment()
        XCTAssertEqual(all.count, 4)

        let second = try KafkaConsumer(configuration: kafka, groupID: group, topics: [topic])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            _ = try await first.poll(maxMessages: 100, timeout: .milliseconds(100))
            _ = try await second.poll(maxMessages: 100, timeout: .milliseconds(100))
            let (a, b) = (try await first.assignment(), try await second.assignment())
            if a.count == 2 && b.count == 2 { break }
        }
        let (a, b) = (try await first.assignment(), try await second.assignment())
        await second.close()
        await first.close()
        XCTAssertEqual(a.count, 2)
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(Set(a).intersection(b), [])
        // Incremental: the first member gave up only what moved.
        XCTAssertEqual(revoked.value.first?.count, 2, "revokes: \(revoked.value)")
    }
}
