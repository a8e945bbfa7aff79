import PipelineCore
import XCTest

@testable import PostgresSource

/// The snapshot's pages are sized by the bytes of their events, under
/// `max.batch.size` rows, so a poll of wide rows stays inside the runner's
/// send window.
final class SnapshotPagingTests: XCTestCase {
    func testPagesHoldAboutAMebibyteOfEventsUnderMaxBatchSize() {
        // Debezium's ~3.5 KB events with their schema: a few hundred rows a page.
        XCTAssertEqual(SnapshotRead.pageRows(maxBatchSize: 2048, eventBytes: 3_500), SnapshotRead.pageBytes / 3_500)
        // Small events: max.batch.size decides.
        XCTAssertEqual(SnapshotRead.pageRows(maxBatchSize: 2048, eventBytes: 200), 2048)
        XCTAssertEqual(SnapshotRead.pageRows(maxBatchSize: 30, eventBytes: 3_500), 30)
        // An event bigger than a page still moves: one row at a time.
        XCTAssertEqual(SnapshotRead.pageRows(maxBatchSize: 2048, eventBytes: 5 << 20), 1)
        XCTAssertEqual(SnapshotRead.pageRows(maxBatchSize: 2048, eventBytes: 0), 2048)
    }

    /// Rows of about 100 KB: after the first page, pages of ten rows (under
    /// the default `max.batch.size` of 2,048), every row snapshotted exactly once, whole.
    func testWideRowsAreSnapshottedInSmallPagesEveryRowOnce() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let rows = 120
        let table = try await h.createTable("wide", "id int PRIMARY KEY, body text NOT NULL")
        try await h.pg.query("""
            INSERT INTO \(SQL.quote(table)) SELECT g, (SELECT string_agg(md5(g::text || ':' || i), '') FROM generate_series(1, 3125) i)
            FROM generate_series(1, \(rows)) g
            """)
        let source = try h.source([table])
        let run = h.start(source)
        try await h.eventually("the snapshot recorded complete") { try await h.storedPosition()?.snapshotCompleted == true }
        try await h.stop(run)
        let events = try await h.events(table, count: rows)
        XCTAssertEqual(events.count, rows, "nothing sent twice")
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...Int64(rows)))
        for event in events {
            guard case .string(let body)? = event.row("body") else { return XCTFail("no body in \(event)") }
            XCTAssertEqual(body.utf8.count, 3125 * 32, "row \(event.keyID ?? -1) cut short")
        }
    }
}
