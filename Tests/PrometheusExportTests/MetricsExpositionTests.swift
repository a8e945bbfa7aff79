import Foundation
import PipelineCore
import TestSupport
import XCTest

@testable import PrometheusExport

/// `/metrics`' text, read back by Prometheus's own Python client (an
/// independent parser), while a real sink runner consumes from the broker.
final class MetricsExpositionTests: XCTestCase {
    /// One bootstrap per process (swift-metrics allows no second backend).
    static let export = PrometheusExport.bootstrap()

    func testASinkRunnersCountersRiseAsRecordsFlowAndPrometheusParsesThem() async throws {
        guard let bootstrap = ProcessInfo.processInfo.environment["TRIBUTARY_BOOTSTRAP"] else {
            throw XCTSkip("TRIBUTARY_BOOTSTRAP is not set: run scripts/test.sh (it starts the broker)")
        }
        let export = Self.export
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let suffix = UUID().uuidString.prefix(8)
        let topic = "metrics-\(suffix)", connector = "metrics-sink-\(suffix)"
        let producer = try KafkaProducer(configuration: kafka)
        func produce(_ range: Range<Int>) async throws {
            _ = try await producer.send(range.map { KafkaMessage(topic: topic, key: Array("k\($0)".utf8), value: Array("value \($0)".utf8)) })
        }
        try await produce(0..<300)

        let count = Locked(0)
        let runner = SinkRunner(settings: SinkRunnerSettings(
            groupID: "connect-\(connector)", topics: [topic], consumer: kafka.with(["session.timeout.ms": "6000"]),
            maxRecords: 100, pollTimeout: .milliseconds(100)))
        let running = Task { try await runner.run(CountingSink(count: count)) }
        defer { running.cancel() }
        try await waitUntil { count.value >= 300 }
        let first = try await PrometheusSamples.parse(export.exposition())
        try await produce(300..<500)
        try await waitUntil { count.value >= 500 }
        // Lag is measured at most once a second, on a poll.
        try await Task.sleep(for: .milliseconds(1500))
        let second = try await PrometheusSamples.parse(export.exposition())
        running.cancel()
        try await running.value
        await producer.close()

        let labels = "connector=\(connector),task=0"
        XCTAssertEqual(first["tributary_connector_records_read_total{\(labels)}"], 300)
        XCTAssertEqual(first["tributary_connector_records_written_total{\(labels)}"], 300)
        XCTAssertEqual(second["tributary_connector_records_read_total{\(labels)}"], 500, "the counter rose as records flowed")
        XCTAssertEqual(second["tributary_connector_records_written_total{\(labels)}"], 500)
        XCTAssertGreaterThan(second["tributary_connector_bytes_read_total{\(labels)}"] ?? 0, first["tributary_connector_bytes_read_total{\(labels)}"] ?? 0)
        XCTAssertGreaterThanOrEqual(second["tributary_connector_batch_duration_seconds_count{\(labels)}"] ?? 0, 5, "one histogram sample per put")
        let lags = second.filter { $0.key.hasPrefix("tributary_sink_partition_lag{connector=\(connector),") }
        XCTAssertFalse(lags.isEmpty, "a lag gauge per partition read: \(second.keys.filter { $0.contains("lag") })")
        XCTAssertTrue(lags.values.allSatisfy { $0 == 0 }, "everything was read: \(lags)")
        XCTAssertGreaterThan(second["process_resident_memory_bytes{}"] ?? 0, 1_000_000)
        XCTAssertGreaterThan(second["process_cpu_seconds_total{}"] ?? 0, 0)
    }

    func testASourceRunnersRowsAcknowledgementsAndPollTimesAreExposed() async throws {
        guard let bootstrap = ProcessInfo.processInfo.environment["TRIBUTARY_BOOTSTRAP"] else {
            throw XCTSkip("TRIBUTARY_BOOTSTRAP is not set: run scripts/test.sh (it starts the broker)")
        }
        let export = Self.export
        let suffix = UUID().uuidString.prefix(8)
        let topic = "metrics-source-\(suffix)", connector = "metrics-source-\(suffix)"
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap))
        let committed = Locked(0)
        let runner = SourceRunner(producer: producer, metrics: ConnectorMetrics(connector: connector))
        let running = Task { try await runner.run(CountingSource(topic: topic, batches: 7, size: 50, committed: committed)) }
        defer { running.cancel() }
        try await waitUntil { committed.value >= 350 }
        running.cancel()
        try await running.value
        await producer.close()

        let samples = try await PrometheusSamples.parse(export.exposition())
        let labels = "connector=\(connector),task=0"
        XCTAssertEqual(samples["tributary_connector_records_read_total{\(labels)}"], 350)
        XCTAssertEqual(samples["tributary_connector_records_written_total{\(labels)}"], 350, "every record acknowledged")
        XCTAssertGreaterThanOrEqual(samples["tributary_source_poll_duration_seconds_count{\(labels)}"] ?? 0, 7)
        XCTAssertEqual(samples["tributary_connector_batch_duration_seconds_count{\(labels)}"], 7, "one latency per batch, send to acknowledgement")
        XCTAssertEqual(samples["tributary_source_stored_offset_age_seconds{\(labels)}"], 0, "everything acknowledged is stored")
    }

    func testProcessFiguresReadStatFieldsAfterACommandNameWithSpaces() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
        let stat = "4242 (my worker (2)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0"
        let figures = ProcessFigures.parse(stat: stat, statm: "5000 1200 300 1 0 900 0\n", ticksPerSecond: 100, pageSize: 4096)
        XCTAssertEqual(figures, ProcessFigures(cpuSeconds: 3.0, residentBytes: 1200 * 4096))
        XCTAssertEqual(ProcessFigures.parse(stat: "", statm: "", ticksPerSecond: 100, pageSize: 4096), ProcessFigures(cpuSeconds: 0, residentBytes: 0))
    }

    private func waitUntil(within seconds: Double = 60, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw PipelineError.other("timed out after \(seconds) s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A sink task that only counts what it is given.
final class CountingSink: SinkTask {
    struct Intake: SinkIntake {
        func decode(_ messages: [KafkaMessage]) throws -> [KafkaMessage] { messages }
    }

    let intake = Intake()
    let count: Locked<Int>
    private var next: [TopicPartition: Int64] = [:]

    init(count: Locked<Int>) { self.count = count }

    func put(_ batch: [KafkaMessage], context: SinkTaskContext) async throws {
        for message in batch { next[message.topicPartition] = message.offset + 1 }
        count.withLock { $0 += batch.count }
    }

    func preCommit() -> [TopicPartition: Int64] {
        defer { next = [:] }
        return next
    }

    func close(_ partitions: [TopicPartition]) async {}
    func stop() async {}
}

/// A source task that sends `batches` batches of `size` messages, then idles.
final class CountingSource: SourceTask {
    let topic: String
    let batches: Int
    let size: Int
    let committed: Locked<Int>
    private var polled = 0
    private var acknowledged = 0

    init(topic: String, batches: Int, size: Int, committed: Locked<Int>) {
        self.topic = topic
        self.batches = batches
        self.size = size
        self.committed = committed
    }

    func poll() async throws -> SourcePoll<Int> {
        guard polled < batches else { return .idle(until: .now + .milliseconds(20)) }
        polled += 1
        let messages = (0..<size).map { KafkaMessage(topic: topic, key: Array("k\($0)".utf8), value: Array("batch \(polled) row \($0)".utf8)) }
        return .batch(SourceBatch(messages: messages, position: polled))
    }

    func acknowledged(_ position: Int, reports: [DeliveryReport]) { acknowledged += reports.count }

    func commit() async throws {
        let total = acknowledged
        committed.withLock { $0 = total }
    }

    func failed(_ error: any Error, unsettled: Bool) async throws { throw error }
}
