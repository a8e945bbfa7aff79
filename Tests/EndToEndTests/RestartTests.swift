import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The seed's pipeline stopped mid-stream and started again, while the
/// writers keep writing: MySQL and S3 must still hold every row exactly once.
/// SIGTERM is the operator's stop (finish the batch, commit, exit 0);
/// SIGKILL is a crash (nothing flushed, nothing committed).
final class RestartTests: XCTestCase {
    static let rows = 20_000
    /// The seed's flush.size of 5 makes 4,000 objects of 20,000 rows; at the
    /// ~40 uploads a second the sink reaches against the S3 server here, the
    /// seed's value costs ~100 s a run, which SeedPipelineTests pays once. Restarts are about offsets and
    /// re-uploads, not object size: 100 keeps both rotations at work (by size,
    /// and by the seed's rotate.schedule.interval.ms of 6000, which is kept)
    /// and leaves more uncommitted records in open files when the worker stops.
    static let s3Overrides = ["flush.size": "100"]

    func testStoppedWithSIGTERMMidStreamAndRestarted() async throws {
        try await restartMidStream(stoppingWith: SIGTERM, label: "sigterm")
    }

    func testKilledWithSIGKILLMidStreamAndRestarted() async throws {
        try await restartMidStream(stoppingWith: SIGKILL, label: "sigkill")
    }

    private func restartMidStream(stoppingWith signal: Int32, label: String) async throws {
        let run = try await PipelineRun(label: label, s3Overrides: Self.s3Overrides)
        // Longer than the first stop takes to come: the source must still be
        // reading new rows when the worker stops, and rows keep arriving
        // while it is down.
        run.writers.spread = .seconds(15)
        let writing = run.writers.start(rows: Self.rows)
        var passed = false
        defer { run.worker.killIfRunning() }
        do {
            try run.worker.start()
            try await waitUntilMidStream(run)
            let ending = try await run.worker.stop(signal)
            // Read after the stop (the sinks are down, so this is where they
            // stopped), not before it: every millisecond counts for the kill.
            let state = await run.progress()
            print("stopped with signal \(signal) at: \(state)")
            let inMySQL = try await run.mysql.count()
            XCTAssertLessThan(inMySQL, Self.rows, "the stop came too late to be mid-stream: \(state)")
            let expected: WorkerProcess.Ending = signal == SIGKILL ? .signalled(SIGKILL) : .exited(0)
            XCTAssertEqual(ending, expected, "worker after signal \(signal); log tail:\n\(run.worker.logTail())")
            let offsets = run.scenario.directory.appendingPathComponent(".tributary/offsets/\(run.scenario.sourceName).json")
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: offsets.path),
                "no source offset file at connect-standalone's default place \(offsets.path)")

            try run.worker.start()
            let commits = try await writing.value
            XCTAssertGreaterThan(
                commits.outOfOrderPairs, 0, "no transaction committed out of key order; the test would prove nothing")
            print("\(commits.count) transactions, \(commits.outOfOrderPairs) pairs committed out of key order")
            try await run.waitUntilDelivered(rows: Self.rows)
            try await run.stopGracefully()
            try await run.assertExactlyOnce(rows: Self.rows)
            passed = testRun?.totalFailureCount == 0
        } catch {
            writing.cancel()
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
    }

    /// Waits until every connector is mid-stream: both sinks have written
    /// something and the source is producing right now (the topic grew
    /// between two looks a few milliseconds apart) with rows still to read.
    /// Stopping then cuts into batches the source has sent but may not yet
    /// have recorded, and into the sinks' uncommitted work.
    private func waitUntilMidStream(_ run: PipelineRun) async throws {
        try await run.eventually("both sinks to write their first rows", within: 120, every: .milliseconds(250), status: run.progress) {
            guard try await run.mysql.count() > 0 else { return false }
            return try await run.s3.recordCount() > 0
        }
        var previous = try await run.kafka.recordCount()
        var now = previous
        try await run.eventually("the source to send rows", within: 60, every: .milliseconds(10), status: run.progress) {
            previous = now
            now = try await run.kafka.recordCount()
            return now > previous && now < Self.rows
        }
    }
}
