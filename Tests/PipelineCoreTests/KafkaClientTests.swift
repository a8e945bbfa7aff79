import Foundation
import PipelineCore
import XCTest

/// The producer, consumer and admin against the broker services.sh started.
final class KafkaClientTests: XCTestCase {
    func testHundredThousandMessagesThroughAGroupWithCommits() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("bulk")
        let admin = try KafkaAdmin(configuration: kafka)
        try await admin.createTopic(topic, partitions: 4, replicationFactor: 1)
        let producer = try KafkaProducer(configuration: kafka)
        let sent = numberedMessages(topic: topic, count: 100_000)
        let reports = try await producer.send(sent)
        XCTAssertEqual(reports.count, 100_000)
        XCTAssertTrue(reports.allSatisfy { $0.offset >= 0 && (0..<4).contains($0.partition) })
        await producer.close()

        let group = TestEnvironment.unique("g")
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        var values = Set<String>()
        var received = 0
        let deadline = Date().addingTimeInterval(90)
        while received < 100_000 && Date() < deadline {
            let batch = try await consumer.poll(maxMessages: 10_000, timeout: .milliseconds(200))
            received += batch.count
            for m in batch { values.insert(String(decoding: m.value!, as: UTF8.self)) }
            try await consumer.commit(nextOffsets(batch))
        }
        XCTAssertEqual(received, 100_000)
        XCTAssertEqual(values.count, 100_000)
        await consumer.close()

        var highSum: Int64 = 0
        for p in 0..<4 { highSum += try await admin.watermarks(TopicPartition(topic, Int32(p))).high }
        XCTAssertEqual(highSum, 100_000)
        let committed = try await admin.committedOffsets(
            group: group, partitions: (0..<4).map { TopicPartition(topic, Int32($0)) }, configuration: kafka)
        XCTAssertEqual(committed.values.reduce(0, +), 100_000)
    }

    /// The watermarks of many partitions, asked of their leaders together,
    /// are each partition's own; a partition the topic lacks is an error naming it.
    func testWatermarksOfManyPartitionsAtOnce() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("marks")
        let admin = try KafkaAdmin(configuration: kafka)
        try await admin.createTopic(topic, partitions: 4, replicationFactor: 1)  // the broker's default: it lacks CreateTopics
        let producer = try KafkaProducer(configuration: kafka)
        let sent = (0..<4).flatMap { p in (0..<(p * 3 + 1)).map { i in KafkaMessage(topic: topic, partition: Int32(p), key: nil, value: Array("\(p)-\(i)".utf8)) } }
        _ = try await producer.send(sent)
        await producer.close()
        let marks = try await admin.watermarks(topic: topic, partitions: Array(0..<4))
        XCTAssertEqual(marks.count, 4)
        for p in Int32(0)..<4 {
            let one = try await admin.watermarks(TopicPartition(topic, p))
            XCTAssertEqual(marks[p]?.low, 0, "partition \(p)")
            XCTAssertEqual(marks[p]?.high, Int64(p * 3 + 1), "partition \(p)")
            XCTAssertEqual(marks[p]?.high, one.high, "partition \(p)")
        }
        let none = try await admin.watermarks(topic: topic, partitions: [])
        XCTAssertTrue(none.isEmpty)
        do {
            _ = try await admin.watermarks(topic: topic, partitions: [0, 9])
            XCTFail("partition 9 does not exist")
        } catch {
            XCTAssertTrue("\(error)".contains(topic), "\(error)")
        }
    }

    /// The producer opens a topic handle per topic: one call may switch
    /// topics message by message, and a name librdkafka refuses fails the
    /// call with an error naming that topic.
    func testOneCallProducesToSeveralTopicsAndARefusedNameIsNamed() async throws {
        let kafka = try TestEnvironment.kafka()
        let topics = [TestEnvironment.unique("mixed-a"), TestEnvironment.unique("mixed-b")]
        let admin = try KafkaAdmin(configuration: kafka)
        for topic in topics { try await admin.createTopic(topic, partitions: 1, replicationFactor: 1) }
        let producer = try KafkaProducer(configuration: kafka)
        let sent = (0..<10).map { i in KafkaMessage(topic: topics[i % 2], partition: 0, key: nil, value: Array("v\(i)".utf8)) }
        let reports = try await producer.send(sent)
        XCTAssertEqual(reports.map(\.offset), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "each topic's messages in order")
        for topic in topics {
            let high = try await admin.watermarks(TopicPartition(topic, 0)).high
            XCTAssertEqual(high, 5, topic)
        }

        // librdkafka refuses topic names over 512 bytes.
        let refused = String(repeating: "t", count: 600)
        do {
            _ = try await producer.send([KafkaMessage(topic: refused, key: nil, value: Array("x".utf8))])
            XCTFail("a refused topic name was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("produce to \(refused)"), "\(error)")
        }
        await producer.close()
    }

    func testSecondConsumerResumesFromCommittedOffsets() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("resume")
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: topic, count: 100))
        let group = TestEnvironment.unique("g")

        let first = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        let all = try await first.drain(count: 100)
        XCTAssertEqual(all.count, 100)
        // Commit only the first 30 of each partition's messages.
        var partial: [TopicPartition: Int64] = [:]
        var expectedRest = 0
        for (tp, messages) in Dictionary(grouping: all, by: \.topicPartition) {
            let sorted = messages.sorted { $0.offset < $1.offset }
            let keep = sorted.count / 3
            partial[tp] = keep > 0 ? sorted[keep - 1].offset + 1 : sorted[0].offset
            expectedRest += sorted.count - keep
        }
        try await first.commit(partial)
        await first.close()

        let second = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        let rest = try await second.drain(count: expectedRest)
        XCTAssertEqual(rest.count, expectedRest)
        for m in rest { XCTAssertGreaterThanOrEqual(m.offset, partial[m.topicPartition]!, "re-read below the committed offset") }
        let extra = try await second.poll(maxMessages: 100, timeout: .milliseconds(500))
        XCTAssertEqual(extra, [])
        await second.close()
        await producer.close()
    }

    func testTwoMembersSplitThePartitions() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("split")
        let admin = try KafkaAdmin(configuration: kafka)
        try await admin.createTopic(topic, partitions: 4, replicationFactor: 1)
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send(numberedMessages(topic: topic, count: 400))
        let group = TestEnvironment.unique("g")
        let a = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        let b = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: group, topics: [topic])
        // Both poll until the group settles with each member owning two partitions.
        let deadline = Date().addingTimeInterval(60)
        var assignedA: [TopicPartition] = [], assignedB: [TopicPartition] = []
        var seen: [KafkaMessage] = []
        while Date() < deadline {
            async let pa = a.poll(maxMessages: 1000, timeout: .milliseconds(300))
            async let pb = b.poll(maxMessages: 1000, timeout: .milliseconds(300))
            seen += try await pa + pb
            assignedA = try await a.assignment()
            assignedB = try await b.assignment()
            if assignedA.count == 2 && assignedB.count == 2 { break }
        }
        XCTAssertEqual(assignedA.count, 2)
        XCTAssertEqual(assignedB.count, 2)
        XCTAssertTrue(Set(assignedA).isDisjoint(with: assignedB))
        XCTAssertEqual(Set(assignedA + assignedB).count, 4)
        await a.close()
        await b.close()
        await producer.close()
    }

    func testInteroperatesWithKcat() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("kcat")
        let producer = try KafkaProducer(configuration: kafka)
        let ours = KafkaMessage(topic: topic, partition: 0, key: Array("our-key".utf8), value: Array("from swift".utf8), headers: [Header("h", text: "v")])
        _ = try await producer.send(ours)
        await producer.close()

        let read = try runKcat(["-C", "-b", kafka.bootstrapServers, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k|%s|%h\n"])
        XCTAssertEqual(read.trimmingCharacters(in: .whitespacesAndNewlines), "our-key|from swift|h=v")

        _ = try runKcat(["-P", "-b", kafka.bootstrapServers, "-t", topic, "-p", "0", "-k", "kcat-key", "-H", "src=kcat"], input: "from kcat")
        let consumer = try KafkaConsumer(configuration: kafka.with(TestEnvironment.consumerProperties), groupID: TestEnvironment.unique("g"), topics: [topic])
        let messages = try await consumer.drain(count: 2)
        await consumer.close()
        let theirs = try XCTUnwrap(messages.first { $0.key == Array("kcat-key".utf8) })
        XCTAssertEqual(theirs.value, Array("from kcat".utf8))
        XCTAssertEqual(theirs.headers, [Header("src", text: "kcat")])
        XCTAssertNotNil(theirs.timestamp)
    }

    func testAdminCreatesAndListsTopics() async throws {
        let kafka = try TestEnvironment.kafka()
        let topic = TestEnvironment.unique("admin")
        let admin = try KafkaAdmin(configuration: kafka)
        // The embedded broker lacks CreateTopics: the topic is auto-created with its default count.
        let created = try await admin.createTopic(topic, partitions: 3, replicationFactor: 1)
        let again = try await admin.createTopic(topic, partitions: 3, replicationFactor: 1)
        XCTAssertEqual(again, created, "an existing topic is fine")
        let info = try await admin.topics().first { $0.name == topic }
        XCTAssertEqual(info?.partitions.map(\.partition), (0..<Int32(created)).map { $0 })
    }
}

/// Runs kcat and returns its standard output.
func runKcat(_ arguments: [String], input: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let stdin = Pipe()
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "kcat \(arguments.joined(separator: " ")) failed")
    return String(decoding: data, as: UTF8.self)
}
