import XCTest

/// `tributary run` with the seed's connectors and no broker named: the
/// embedded cluster runs inside the worker, keeps only ~5 MiB per
/// partition, and must still lose nothing of a backlog that was in the
/// table before the worker started.
final class EmbeddedBrokerTests: XCTestCase {
    /// ~29 MB as Connect JSON (~1.6 KB a row): more than the 4 partitions of
    /// an auto-created topic keep (4 x 5 MiB), so before the source created
    /// its topic with partitions for the backlog and waited for its sinks,
    /// the S3 sink (the slowest, flush.size 5) found its records pruned.
    static let rows = 18_000

    func testBacklogWrittenBeforeTheWorkerStartsReachesMySQLAndS3ExactlyOnce() async throws {
        // flush.size 50, not the seed's 5: the backlog is the point here, and
        // 3,600 objects into moto took two minutes of the suite.
        let run = try await PipelineRun(label: "backlog", s3Overrides: ["flush.size": "50"], embeddedBroker: true)
        try await deliver(run) { log, partitions in
            XCTAssertTrue(log.contains("topic \(run.scenario.topic) has \(partitions) partitions, for a backlog of"), "no log line gives the topic's partitions")
            XCTAssertGreaterThan(partitions, 4, "the topic has no more partitions than an auto-created one")
        }
    }

    /// With 4 partitions (set through KIP-158's key) the backlog cannot fit:
    /// the source must wait for the slowest sink instead.
    func testSourceWaitsForTheSlowestSinkWhenTheBacklogCannotFit() async throws {
        // flush.size 50 as above: the sinks (debug builds, ~250 rows/s here)
        // still fall behind the source by more than 4 partitions keep.
        let run = try await PipelineRun(
            label: "held", s3Overrides: ["flush.size": "50"], sourceOverrides: ["topic.creation.default.partitions": "4"], embeddedBroker: true)
        try await deliver(run) { log, partitions in
            XCTAssertEqual(partitions, 4)
            XCTAssertTrue(log.contains("holding the producer back"), "the source never waited for its sinks")
        }
    }

    /// Fills the table, runs the worker until MySQL and S3 hold every row,
    /// stops it, then checks the log (with the topic's partition count) and every row.
    private func deliver(_ run: PipelineRun, checkLog: (String, Int) -> Void) async throws {
        var passed = false
        defer { run.worker.killIfRunning() }
        do {
            try await run.postgres.generate(rows: Self.rows, in: run.scenario.directory)
            try run.worker.start(embeddedBroker: true)
            try await run.waitUntilDelivered(rows: Self.rows, within: 240)
            try await run.stopGracefully()
            let log = run.worker.log()
            XCTAssertFalse(log.contains("records pruned"), "\(run.worker.logTail())")
            XCTAssertFalse(log.contains("has no committed offset"), "\(run.worker.logTail())")
            // The sink stored the next offset of every partition with its rows: the topic's high watermarks.
            let next = try await run.mysql.storedOffsets(group: "connect-\(run.scenario.mysqlSinkName)", topic: run.scenario.topic)
            checkLog(log, next.count)
            try await run.assertExactlyOnce(rows: Self.rows, watermarks: next.mapValues { (low: 0, high: $0) })
            passed = testRun?.totalFailureCount == 0
        } catch {
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
    }
}
