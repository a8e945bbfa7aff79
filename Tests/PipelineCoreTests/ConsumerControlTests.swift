import Foundation
import PipelineCore
import XCTest

/// Pause/resume and the dead-letter queue against the services' broker.
final class ConsumerControlTests: XCTestCase {
    func testPausedPartitionsDeliverNothingUntilResumed() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("pause")
        let producer = try KafkaProducer(configuration: kafka)
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: TestEnvironment.unique("g"), topics: [topic])
        _ = try await producer.send(KafkaMessage(topic: topic, partition: 0, key: nil, value: Array("before".utf8)))
        let before = try await consumer.drain(count: 1)
        XCTAssertEqual(before.count, 1)
        let partitions = try await consumer.assignment()
        try await consumer.pause(partitions)
        _ = try await producer.send(KafkaMessage(topic: topic, partition: 0, key: nil, value: Array("while paused".utf8)))
        let whilePaused = try await consumer.poll(maxMessages: 10, timeout: .seconds(2))
        XCTAssertEqual(whilePaused, [])
        try await consumer.resume(partitions)
        let after = try await consumer.drain(count: 1)
        XCTAssertEqual(after.map { $0.value.map { String(decoding: $0, as: UTF8.self) } }, ["while paused"])
        await consumer.close()
        await producer.close()
    }

    func testDeadLettersCarryConnectErrorHeaders() async throws {
        let kafka = try TestEnvironment.kafka()
        let dlqTopic = TestEnvironment.unique("dlq")
        let producer = try KafkaProducer(configuration: kafka)
        let queue = DeadLetterQueue(topic: dlqTopic, connectorName: "mysql-sink", producer: producer)
        let poison = KafkaMessage(topic: "P_USERS", partition: 1, offset: 42, key: Array("k".utf8), value: Array("not json".utf8))
        try await queue.send([(poison, PipelineError.badMessage(position: poison.position, reason: "invalid JSON"))], stage: "VALUE_CONVERTER")
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: TestEnvironment.unique("g"), topics: [dlqTopic])
        let letters = try await consumer.drain(count: 1)
        await consumer.close()
        await producer.close()
        let letter = try XCTUnwrap(letters.first)
        XCTAssertEqual(letter.value, poison.value)
        XCTAssertEqual(letter.key, poison.key)
        func header(_ name: String) -> String? {
            letter.headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(header("__connect.errors.topic"), "P_USERS")
        XCTAssertEqual(header("__connect.errors.partition"), "1")
        XCTAssertEqual(header("__connect.errors.offset"), "42")
        XCTAssertEqual(header("__connect.errors.stage"), "VALUE_CONVERTER")
        XCTAssertEqual(header("__connect.errors.exception.message"), "bad message at P_USERS-1@42: invalid JSON")
    }
}
