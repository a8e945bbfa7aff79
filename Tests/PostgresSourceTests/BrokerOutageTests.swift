import Foundation
import PipelineCore
import TestSupport
import XCTest

@testable import PostgresSource

/// Every broker of the embedded cluster down for 10 s while the source sends:
/// the sends wait the outage out, the run goes on, nothing is lost or doubled.
final class BrokerOutageTests: XCTestCase {
    func testSourceWaitsOutEveryBrokerDown() async throws {
        let control = try BrokerControl.path()
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("broker_down")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        // A backlog of many batches (10 rows each), so that the outage
        // starts mid-stream even when the source is fast: with 4,000 rows
        // it had sometimes sent them all before the brokers went down.
        let backlog = 40_000
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, \(backlog)) g")
        let task = h.start(try h.source([
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10",
            "poll.interval.ms": "100",
        ]))
        try await h.eventually("some rows") { h.delivered() >= 50 }
        do {
            try await refuseProduceRequests(control: control)
            try brokers("down", control: control)
            XCTAssertLessThan(h.delivered(), backlog, "the outage came too late to be mid-stream")
            try await Task.sleep(for: .seconds(10))
        } catch {
            try? BrokerControl.send(["clear \(produceAPIKey)"], to: control)
            try? brokers("up", control: control)
            throw error
        }
        try BrokerControl.send(["clear \(produceAPIKey)"], to: control)
        try brokers("up", control: control)
        XCTAssertNil(h.failure.value, "the source stopped during the outage")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(\(backlog + 1), \(backlog + 100)) g")
        try await h.eventually("every row") {
            h.events.value.contains { if case .delivered(_, _, _, let offset) = $0 { offset?.incrementing == Int64(backlog + 100) } else { false } }
        }
        try await h.stop(task)
        let ids = try await h.consume(h.topicPrefix + table, count: backlog + 100).compactMap { $0.int("id") }
        XCTAssertEqual(ids.count, backlog + 100, "lost or doubled records")
        XCTAssertEqual(Set(ids), Set(1...Int64(backlog + 100)))
        await h.close()
    }

    private let produceAPIKey = 0

    /// Has the cluster refuse every Produce request for a moment before the
    /// brokers go, so that none is appended with its answer then lost.
    /// librdkafka's test broker appends a retried idempotent batch a second
    /// time (it checks producer sequences only for transactional producers),
    /// where Kafka drops it as a duplicate: a request answered just as the
    /// brokers went down made 150 duplicates in one CI run. NOT_ENOUGH_REPLICAS
    /// means "not appended", which the producer retries by itself. Requests
    /// already in the broker are answered within the pause.
    private func refuseProduceRequests(control: String) async throws {
        let notEnoughReplicas = 19
        // 1,000 codes stay one write under PIPE_BUF, and outlast the pause.
        try BrokerControl.send(["errors \(produceAPIKey) " + Array(repeating: "\(notEnoughReplicas)", count: 1_000).joined(separator: ",")], to: control)
        try await Task.sleep(for: .milliseconds(300))
    }

    /// `down`/`up` for brokers 1-3 through the broker's control FIFO (scripts/services.sh).
    private func brokers(_ verb: String, control: String) throws {
        try BrokerControl.send((1...3).map { "\(verb) \($0)" }, to: control)
    }
}
