import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The seed's job end to end: `tributary run` with the seed's three
/// connector configs (Postgres incrementing source, MySQL insert sink, S3
/// sink with flush.size 5) while application-like writers insert rows.
final class SeedPipelineTests: XCTestCase {
    static let rows = 20_000

    func testConcurrentWritersReachMySQLAndS3ExactlyOnce() async throws {
        let run = try await PipelineRun(label: "seed")
        var passed = false
        defer { run.worker.killIfRunning() }
        do {
            try run.worker.start()
            // Written while the pipeline runs, by four sessions whose
            // transactions commit out of key order.
            let commits = try await run.writers.write(rows: Self.rows)
            XCTAssertGreaterThan(
                commits.outOfOrderPairs, 0, "no transaction committed out of key order; the test would prove nothing")
            print("\(commits.count) transactions, \(commits.outOfOrderPairs) pairs committed out of key order")
            try await run.waitUntilDelivered(rows: Self.rows)
            try await run.stopGracefully()
            // Read after the stop: nothing can change what is checked.
            try await run.assertExactlyOnce(rows: Self.rows)
            passed = testRun?.totalFailureCount == 0
        } catch {
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
    }
}
