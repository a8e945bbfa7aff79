import Foundation
import PipelineCore
import TestSupport
import XCTest

@testable import PostgresSource

/// The source keeps many pages in flight (PipelineCore's ``SourceRunner``) and stores only the
/// offset of the longest acknowledged prefix.
final class SendWindowTests: XCTestCase {
    /// With 20 ms added to every broker round trip, a source that waited for
    /// each page's acknowledgement would have one page in flight at a time.
    func testManyPagesAreInFlightWhileTheBrokerIsSlow() async throws {
        let control = try BrokerControl.path()
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("window")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 1000) g")
        try BrokerControl.send((1...3).map { "rtt \($0) 20" }, to: control)
        defer { try? BrokerControl.send((1...3).map { "rtt \($0) 0" }, to: control) }
        let task = h.start(try h.source([
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
        ], recovery: true))
        try await h.eventually("every row") { h.delivered() >= 1000 }
        try await h.stop(task)
        let inFlight = h.events.value.compactMap { event -> Int? in
            if case .sent(_, _, _, let pages) = event { pages } else { nil }
        }
        XCTAssertEqual(inFlight.count, 100, "one send per page")
        XCTAssertGreaterThan(inFlight.max() ?? 0, 4, "pages in flight at once")
        let stored = try await h.storedOffsets()["test-source/public.\(table)"].flatMap(SourceOffset.init(json:))
        XCTAssertEqual(stored?.incrementing, 1000)
        try await assertOnce(h.topicPrefix + table, ids: 1...1000, ordered: true, h: h)
        await h.close()
    }

    /// One FETCH brings several pages (``PostgresSourceTask/rowsPerFetch``),
    /// but each is sent as its own batch of `batch.max.rows`. A bad row in the
    /// middle of a FETCH ends it: every row above it is sent and stored, in
    /// order, none below it, and the error names the row.
    func testAFetchOfManyPagesIsSentPageByPageUpToABadRow() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("fetch_pages")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL, d date)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 2500) g")
        try await h.pg.query("UPDATE \(quoted) SET d = 'infinity' WHERE id = 1234")
        let source = try h.source(
            ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "100"],
            recovery: true)
        do {
            try await source.run()
            XCTFail("the source read past the bad row")
        } catch {
            XCTAssertTrue("\(error)".contains("row id=1234: "), "\(error)")
        }
        let sends = h.events.value.compactMap { event -> Int? in
            if case .sent(let label, _, let rows, _) = event, label.hasSuffix(table) { rows } else { nil }
        }
        XCTAssertEqual(sends, Array(repeating: 100, count: 12) + [33], "pages of batch.max.rows, the last one ending above the bad row")
        let stored = try await h.storedOffsets()["test-source/public.\(table)"].flatMap(SourceOffset.init(json:))
        XCTAssertEqual(stored?.incrementing, 1233)
        try await assertOnce(h.topicPrefix + table, ids: 1...1233, ordered: true, h: h)
        await h.close()
    }

    /// The next Produce request fails (MSG_SIZE_TOO_LARGE, not retried by
    /// librdkafka) while many pages are in flight: pages after the failed one
    /// may be delivered, but the stored offset never passes the failed rows,
    /// and in the end every row is in the topic exactly once.
    func testAFailureInsideTheWindowStoresOnlyTheAcknowledgedPrefix() async throws {
        let control = try BrokerControl.path()
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("window_fail")
        let quoted = SQL.quote(table)
        let partition = "test-source/public.\(table)"
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 3000) g")
        try BrokerControl.send((1...3).map { "rtt \($0) 20" }, to: control)
        defer { try? BrokerControl.send((1...3).map { "rtt \($0) 0" }, to: control) }
        let properties = [
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
            "connection.backoff.ms": "100",
        ]
        let first = h.start(try h.source(properties, recovery: true))
        try await h.eventually("some rows") { h.delivered() >= 200 }
        try BrokerControl.send(["errors 0 10"], to: control)
        // Whether the source stops (a delivery error is not retriable) or goes
        // on, it stores nothing past a row the broker did not acknowledge.
        let deadline = Date().addingTimeInterval(60)
        while h.failure.value == nil, h.delivered() < 3000, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        first.cancel()
        _ = try? await first.value
        let failed = h.failure.value
        XCTAssertNotNil(failed, "the injected Produce error failed a send")
        let stored = try await h.storedOffsets()[partition].flatMap(SourceOffset.init(json:))
        let prefix = try await ids(in: h.topicPrefix + table, h: h)
        if let upTo = stored?.incrementing {
            XCTAssertTrue(Set(1...upTo).isSubset(of: Set(prefix)), "stored \(upTo), past rows not in the topic")
        }
        XCTAssertLessThan(stored?.incrementing ?? 0, 3000, "stored past the failed page")

        // A restart (with a fresh producer: a failed idempotent one may be fenced)
        // sends the rest, and nothing the failed run delivered beyond its prefix twice.
        let producer = try KafkaProducer(configuration: h.kafka)
        let config = try PostgresSourceConfig(properties: h.properties(properties))
        let events = h.events
        h.failure.withLock { $0 = nil }
        let second = h.start(PostgresSource(
            config: config, producer: producer, kafka: h.kafka, events: { event in events.withLock { $0.append(event) } }))
        try await h.eventually("every row stored") {
            try await h.storedOffsets()[partition].flatMap(SourceOffset.init(json:))?.incrementing == 3000
        }
        try await h.stop(second)
        await producer.close()
        // The failed rows follow rows sent after them (other keys; each key is read once per range).
        try await assertOnce(h.topicPrefix + table, ids: 1...3000, ordered: false, h: h)
        await h.close()
    }

    /// Every id once, and if `ordered`, ascending within each partition (pages kept their order).
    private func assertOnce(_ topic: String, ids expected: ClosedRange<Int64>, ordered: Bool, h: SourceHarness,
                                   file: StaticString = #filePath, line: UInt = #line) async throws {
        let messages = try await h.consumeMessages(topic, count: expected.count)
        let byPartition = Dictionary(grouping: messages, by: \.partition)
        var all: [Int64] = []
        for (partition, list) in byPartition {
            let ids = try list.sorted { $0.offset < $1.offset }.map { try id($0) }
            if ordered { XCTAssertEqual(ids, ids.sorted(), "partition \(partition) out of order", file: file, line: line) }
            all += ids
        }
        XCTAssertEqual(all.count, expected.count, "records (doubled or lost)", file: file, line: line)
        XCTAssertEqual(Set(all), Set(expected), file: file, line: line)
    }

    private func ids(in topic: String, h: SourceHarness) async throws -> [Int64] {
        try await h.consumeMessages(topic, count: 0).map { try id($0) }
    }

    private func id(_ message: KafkaMessage) throws -> Int64 {
        let converter = JsonConverter(schemasEnabled: true)
        return try XCTUnwrap(Record(decoding: message, keyConverter: converter, valueConverter: converter).int("id"))
    }
}
