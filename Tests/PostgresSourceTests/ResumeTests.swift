import PipelineCore
import XCTest

@testable import PostgresSource

final class ResumeTests: XCTestCase {
    func testRestartResumesFromTheOffsetFile() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("resume")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 120) g")
        let properties = ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "50"]
        let first = h.start(try h.source(properties))
        try await h.eventually("120 rows") { h.delivered() >= 120 }
        try await h.stop(first)
        let stored = try await h.storedOffsets()
        XCTAssertEqual(stored["test-source/public.\(table)"], SourceOffset(incrementing: 120).json)

        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(121, 150) g")
        let second = h.start(try h.source(properties))
        try await h.eventually("30 more rows") { h.delivered() >= 150 }
        try await h.stop(second)
        XCTAssertEqual(h.delivered(), 150, "the restarted source re-sent nothing")
        let records = try await h.consume(h.topicPrefix + table, count: 150)
        XCTAssertEqual(records.map { $0.int("id")! }.sorted(), Array(1...150))
        await h.close()
    }

    /// Stopping in the middle of a long range stores how far the broker got;
    /// the next run continues from there and nothing is missing.
    func testStopInTheMiddleOfARangeLosesNothing() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("midway")
        let quoted = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 2000) g")
        let properties = ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "10"]
        let first = h.start(try h.source(properties))
        try await h.eventually("some rows") { h.delivered() >= 100 }
        try await h.stop(first)
        let stoppedAt = h.delivered()
        let stored = SourceOffset(json: try await h.storedOffsets()["test-source/public.\(table)"]!)
        XCTAssertEqual(stored?.incrementing, Int64(stoppedAt), "the stored offset is what the broker acknowledged")

        let second = h.start(try h.source(properties))
        try await h.eventually("the rest") { h.delivered() >= 2000 }
        try await h.stop(second)
        XCTAssertEqual(h.delivered(), 2000)
        await h.close()
    }

    func testFileOffsetStoreReplacesTheFileAtomically() async throws {
        let path = NSTemporaryDirectory() + TestEnvironment.uniqueName("store") + "/nested/offsets.json"
        let store = FileOffsetStore(path: path)
        let before = try await store.offset(for: "a")
        XCTAssertNil(before)
        try await store.store(["a": SourceOffset(incrementing: 1).json, "b": SourceOffset(timestamp: "2024-01-01 00:00:00+00").json])
        try await store.store(["a": SourceOffset(incrementing: 2).json])
        let reopened = FileOffsetStore(path: path)
        let a = try await reopened.offset(for: "a"), b = try await reopened.offset(for: "b")
        XCTAssertEqual(a, SourceOffset(incrementing: 2).json)
        XCTAssertEqual(b.flatMap(SourceOffset.init(json:))?.timestamp, "2024-01-01 00:00:00+00")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}
