import PipelineCore
import XCTest

@testable import PostgresSource

/// The stream's next batch is read and encoded on the replication thread
/// while the previous one is sent (``StreamDecoder``): what that overlap must
/// not change, against the real Postgres 15 and broker.
final class CDCReceiveOverlapTests: XCTestCase {
    /// Relation messages in the middle of a burst many batches long (the
    /// reads overlap the sends): every row is encoded with the columns its
    /// own Relation message gave, in order, once.
    func testRelationMessagesInsideABurstGiveEachRowItsOwnSchema() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = try await h.createTable("overlap", "id int PRIMARY KEY, name text")
        let q = SQL.quote(table)
        let source = try h.source([table], ["max.batch.size": "20", "snapshot.mode": "no_data"])
        let run = h.start(source)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        // One transaction: pgoutput sends a new Relation message before the first row after each ALTER.
        try await h.pg.query("""
            DO $$ BEGIN
              INSERT INTO \(q) SELECT g, 'a' FROM generate_series(1, 300) g;
              ALTER TABLE \(q) ADD COLUMN score int;
              INSERT INTO \(q) SELECT g, 'b', g FROM generate_series(301, 600) g;
              ALTER TABLE \(q) DROP COLUMN name;
              INSERT INTO \(q) SELECT g, g FROM generate_series(601, 900) g;
            END $$
            """)
        try await h.eventually("900 events") { source.throughput.total >= 900 }
        try await h.stop(run)
        let events = try await h.events(table, count: 900)
        XCTAssertEqual(events.count, 900, "nothing sent twice")
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...900), "nothing lost")
        for event in events {
            let id = try XCTUnwrap(event.keyID)
            let columns = Set(event.value?.schema?.field(named: "after")?.schema.fields.map(\.name) ?? [])
            switch id {
            case ...300: XCTAssertEqual(columns, ["id", "name"], "row \(id)")
            case ...600: XCTAssertEqual(columns, ["id", "name", "score"], "row \(id)")
            default: XCTAssertEqual(columns, ["id", "score"], "row \(id)")
            }
            if id > 300 { XCTAssertEqual(event.row("score"), .int(id), "row \(id)") }
        }
    }

    /// Stopping an idle source, whose next receive is waiting on the
    /// replication socket: the run ends, the connection is closed (the slot
    /// is released), and the next run streams from the slot at once.
    func testStopWhileAReceiveWaitsReleasesTheSlot() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = try await h.createTable("stopidle", "id int PRIMARY KEY")
        let q = SQL.quote(table)
        let properties = ["snapshot.mode": "no_data"]
        let first = try h.source([table], properties)
        let run1 = h.start(first)
        try await h.eventually("the slot streaming") { try await self.slotActive(h) == true }
        try await h.pg.query("INSERT INTO \(q) VALUES (1)")
        try await h.eventually("the first row") { first.throughput.total >= 1 }
        try await h.stop(run1)
        try await h.eventually("the slot released") { try await self.slotActive(h) == false }

        try await h.pg.query("INSERT INTO \(q) VALUES (2)")
        let second = try h.source([table], properties)
        let run2 = h.start(second)
        try await h.eventually("the second row") { second.throughput.total >= 1 }
        try await h.stop(run2)
        let events = try await h.events(table, count: 2)
        XCTAssertEqual(events.compactMap(\.keyID).sorted(), [1, 2])
    }

    /// Whether the slot has a walsender (nil: no slot).
    private func slotActive(_ h: CDCHarness) async throws -> Bool? {
        try await h.pg.query("SELECT active::text FROM pg_replication_slots WHERE slot_name = $1", [h.slot]).first?[0].map { $0 == "true" }
    }
}
