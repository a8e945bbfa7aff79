import Foundation
import Logging
import PipelineCore
import XCTest

@testable import PostgresSource

/// A source under test against the real Postgres and broker, with fresh
/// names (tables, topic prefix, offset file) so tests never interfere.
final class SourceHarness: Sendable {
    let pg: PostgresClient
    let kafka: KafkaConfiguration
    let producer: KafkaProducer
    let topicPrefix: String
    let offsetPath: String
    let url: String
    /// Everything the running sources reported, in order.
    let events = Locked<[SourceEvent]>([])
    /// The error a source stopped with, if any.
    let failure = Locked<String?>(nil)

    init() throws {
        url = try TestEnvironment.postgresURL()
        kafka = KafkaConfiguration(bootstrapServers: try TestEnvironment.require("TRIBUTARY_BOOTSTRAP"))
        pg = PostgresClient(settings: try ConnectionSettings(url: url), name: "harness")
        producer = try KafkaProducer(configuration: kafka)
        topicPrefix = TestEnvironment.uniqueName("T") + "_"
        offsetPath = NSTemporaryDirectory() + TestEnvironment.uniqueName("offsets") + "/source.json"
    }

    deinit {
        // The offset file's directory is this harness's own; tests leave no trace in /tmp.
        try? FileManager.default.removeItem(atPath: (offsetPath as NSString).deletingLastPathComponent)
    }

    /// Connect properties for a source polling fast, plus `extra`.
    func properties(_ extra: [String: String]) -> [String: String] {
        var properties = [
            "name": "test-source", "connection.url": url, "topic.prefix": topicPrefix, "poll.interval.ms": "50",
            "offset.storage.file.filename": offsetPath,
        ]
        properties.merge(extra) { _, new in new }
        return properties
    }

    /// A source; with `recovery` it gets the Kafka configuration, so its offsets
    /// carry Kafka positions and a restart skips what was delivered but not recorded.
    func source(
        _ extra: [String: String], maxRowsPerCycle: Int? = nil, recovery: Bool = false,
        logger: Logger = Logger(label: "tributary.source.postgres")
    ) throws -> PostgresSource {
        var config = try PostgresSourceConfig(properties: properties(extra))
        if let maxRowsPerCycle { config.maxRowsPerCycle = maxRowsPerCycle }
        let events = self.events
        return PostgresSource(
            config: config, producer: producer, kafka: recovery ? kafka : nil, logger: logger,
            events: { event in events.withLock { $0.append(event) } })
    }

    /// Runs `source` in a task; stop it with ``stop(_:)``.
    func start(_ source: PostgresSource) -> Task<Void, Error> {
        let failure = self.failure
        return Task {
            do {
                try await source.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
    }

    /// Cancels the source (graceful stop) and waits for it to return.
    func stop(_ task: Task<Void, Error>) async throws {
        task.cancel()
        try await task.value
    }

    /// Rows the broker acknowledged so far, for `table` (or all tables).
    func delivered(_ table: String? = nil) -> Int {
        events.value.reduce(0) { total, event in
            guard case .delivered(let name, _, let rows, _) = event, table == nil || name.hasSuffix(table!) else { return total }
            return total + rows
        }
    }

    var waits: Int {
        events.value.filter { if case .waitingForWriters = $0 { true } else { false } }.count
    }

    /// Waits until `condition` holds; fails the test after a generous deadline
    /// (a safety net against hangs, not a timing assertion).
    func eventually(_ what: String, within seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            if let failure = failure.value {
                XCTFail("the source stopped: \(failure)", file: file, line: line)
                throw PipelineError.other(failure)
            }
            guard Date() < deadline else {
                XCTFail("timed out waiting for \(what)", file: file, line: line)
                throw PipelineError.other("timed out waiting for \(what)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Every record in `topic`, decoded: reads each partition up to its high
    /// watermark, so duplicates cannot stand in for records not yet read.
    /// `count` is the least expected (a check, not a stop condition).
    func consume(_ topic: String, count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [Record] {
        let converter = JsonConverter(schemasEnabled: true)
        return try await consumeMessages(topic, count: count, file: file, line: line).map {
            try Record(decoding: $0, keyConverter: converter, valueConverter: converter)
        }
    }

    /// Every message in `topic`, as ``consume(_:count:file:line:)`` reads them.
    func consumeMessages(_ topic: String, count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [KafkaMessage] {
        let admin = try KafkaAdmin(configuration: kafka)
        let partitions = try await admin.topics().first { $0.name == topic }?.partitions ?? []
        var expected = 0
        for partition in partitions {
            let marks = try await admin.watermarks(TopicPartition(topic, partition.partition))
            XCTAssertEqual(marks.low, 0, "records of \(topic) were pruned", file: file, line: line)
            expected += Int(marks.high - marks.low)
        }
        XCTAssertGreaterThanOrEqual(expected, count, "records in \(topic)", file: file, line: line)
        let consumer = try KafkaConsumer(
            configuration: kafka.with(["session.timeout.ms": "6000"]), groupID: TestEnvironment.uniqueName("g"), topics: [topic])
        var messages: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(60)
        while messages.count < expected && Date() < deadline {
            messages += try await consumer.poll(maxMessages: 10_000, timeout: .milliseconds(200))
        }
        await consumer.close()
        XCTAssertEqual(messages.count, expected, "records read from \(topic)", file: file, line: line)
        return messages
    }

    /// The stored offset file's content.
    func storedOffsets() async throws -> [String: JSON] {
        try await FileOffsetStore(path: offsetPath).all()
    }

    func close() async {
        await producer.close()
        await pg.close()
    }
}

extension Record {
    /// An int64-ish field of the value (ints, and the key of incrementing tables).
    func int(_ field: String) -> Int64? {
        if case .int(let v)? = value?.value[field: field] { return v }
        return nil
    }

    func string(_ field: String) -> String? {
        if case .string(let v)? = value?.value[field: field] { return v }
        return nil
    }
}
