import PipelineCore
import XCTest

@testable import PostgresSource

/// PostgresCDCSource against the real Postgres 15 and broker: snapshot then
/// stream, every op, restarts, a dropped slot, heartbeats.
final class CDCSourceTests: XCTestCase {
    /// Rows written while the snapshot runs arrive once each: the snapshot
    /// has those committed before the slot's consistent point, the stream the rest.
    func testSnapshotThenStreamWithAWriterHasNoGapAndNoDuplicate() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("snap")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) (v) SELECT g FROM generate_series(1, 2000) g")
        let source = try h.source([table], ["max.batch.size": "100"])
        let writer = try TestEnvironment.client(name: "writer")
        let run = h.start(source)
        // Inserts while the source starts (the slot may be created before, between
        // or after them), then more once the first snapshot rows arrived (streamed).
        // Not a continuous writer: a logical slot created while transactions keep
        // running waits for the next xl_running_xacts record (every 15 s).
        for _ in 0..<10 { try await writer.query("INSERT INTO \(SQL.quote(table)) (v) SELECT g FROM generate_series(1, 50) g") }
        try await h.eventually("the first snapshot rows") { source.throughput.total > 0 }
        for _ in 0..<10 { try await writer.query("INSERT INTO \(SQL.quote(table)) (v) SELECT g FROM generate_series(1, 50) g") }
        let total = Int(try await writer.query("SELECT count(*) FROM \(SQL.quote(table))")[0][0]!)!
        try await h.eventually("\(total) rows") { source.throughput.total >= total }
        try await h.stop(run)
        let events = try await h.events(table, count: total)
        XCTAssertEqual(events.count, total, "nothing duplicated")
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...Int64(total)), "nothing missing")
        XCTAssertEqual(Set(events.compactMap(\.op)).subtracting(["r", "c"]), [])
        XCTAssertTrue(events.contains { $0.op == "r" } && events.contains { $0.op == "c" }, "some rows from the snapshot, some streamed")
        for event in events where event.op == "r" {
            XCTAssertEqual(event.value?.value[field: "source"]?[field: "snapshot"], .string("true"))
        }
        await writer.close()
    }

    /// Five tables, read four at a time on connections sharing the slot's snapshot;
    /// a row inserted once the snapshot is recorded complete is streamed, once.
    func testSnapshotOfSeveralTablesInParallel() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let tables = (0..<5).map { _ in TestEnvironment.uniqueName("par") }
        for (i, table) in tables.enumerated() {
            try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
            try await h.pg.query("INSERT INTO \(SQL.quote(table)) SELECT g FROM generate_series(1, \(100 + i * 50)) g")
        }
        let source = try h.source(tables, ["max.batch.size": "30"])
        let run = h.start(source)
        try await h.eventually("the snapshot recorded complete") { try await h.storedPosition()?.snapshotCompleted == true }
        try await h.pg.query("INSERT INTO \(SQL.quote(tables[0])) VALUES (1000)")
        try await h.eventually("every row") { source.throughput.total >= 1001 }
        try await h.stop(run)
        XCTAssertEqual(source.throughput.total, 1001, "nothing sent twice")
        for (i, table) in tables.enumerated() {
            let expected = 100 + i * 50 + (i == 0 ? 1 : 0)
            let stored = try await h.recordCount(table)
            XCTAssertEqual(stored, expected, table)
            // Read back in full: the first table (with the streamed row) and the last (read after a lane was free).
            guard i == 0 || i == tables.count - 1 else { continue }
            let events = try await h.events(table, count: 100 + i * 50)
            let streamed: Set<Int64> = i == 0 ? [1000] : []
            XCTAssertEqual(events.count, 100 + i * 50 + streamed.count, table)
            XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...Int64(100 + i * 50)).union(streamed), table)
            XCTAssertEqual(events.filter { $0.op == "r" }.count, 100 + i * 50, table)
        }
    }

    /// A big table is read in ranges of its primary key (here a composite one,
    /// text first), on several connections of the same snapshot: every row
    /// arrives exactly once, and the ranges' queries split the rows exactly.
    func testABigTableIsSnapshottedInKeyRangesEveryRowOnce() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("ranges")
        let rows = 1003
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (region text, id int, v int NOT NULL, PRIMARY KEY (region, id))")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) SELECT (ARRAY['eu', 'Us', 'ap ''x''', 'é'])[g % 4 + 1], g, g FROM generate_series(1, \(rows)) g")
        // 1003 rows in batches of 20: 4 ranges (at least 8 batches each).
        let relation = try await CDCCatalog(client: h.pg).relation("public.\(table)")
        var counts: [Int] = []
        for index in 0..<4 {
            let range = KeyRange(table: relation, key: ["region", "id"], index: index, of: 4, rows: rows)
            counts.append(Int(try await h.pg.query("SELECT count(*) FROM \(SQL.quote(table))\(range.whereClause)")[0][0]!)!)
        }
        XCTAssertEqual(counts.reduce(0, +), rows, "the ranges cover every row once: \(counts)")
        XCTAssertTrue(counts.allSatisfy { $0 >= 250 && $0 <= 251 }, "\(counts)")

        let source = try h.source([table], ["max.batch.size": "20"])
        let run = h.start(source)
        try await h.eventually("the snapshot recorded complete") { try await h.storedPosition()?.snapshotCompleted == true }
        try await h.stop(run)
        XCTAssertEqual(source.throughput.total, Int64(rows))
        let events = try await h.events(table, count: rows)
        XCTAssertEqual(events.count, rows, "nothing duplicated")
        let keys = events.map { "\($0.key?.value[field: "region"] ?? .null)/\($0.key?.value[field: "id"] ?? .null)" }
        XCTAssertEqual(Set(keys).count, rows, "nothing missing, nothing twice")
        XCTAssertEqual(Set(events.compactMap(\.op)), ["r"])
    }

    /// `table.include.list` as a regular expression: the matching tables are snapshotted, the others not.
    func testIncludeListRegularExpression() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let stem = TestEnvironment.uniqueName("rx")
        for name in ["\(stem)_a", "\(stem)_b", "\(stem)x"] {
            try await h.pg.query("CREATE TABLE \(SQL.quote(name)) (id int PRIMARY KEY)")
            try await h.pg.query("INSERT INTO \(SQL.quote(name)) VALUES (1), (2)")
        }
        var properties = try h.properties([])
        properties["table.include.list"] = "public\\.\(stem)_.*"
        let source = try PostgresCDCSource(properties: properties, producer: h.base.producer)
        let run = h.start(source)
        try await h.eventually("the snapshot recorded complete") { try await h.storedPosition()?.snapshotCompleted == true }
        try await h.stop(run)
        XCTAssertEqual(source.throughput.total, 4)
        let a = try await h.recordCount("\(stem)_a"), b = try await h.recordCount("\(stem)_b"), x = try await h.recordCount("\(stem)x")
        XCTAssertEqual([a, b, x], [2, 2, 0])
    }

    /// Insert, update of a TOASTed row leaving the big column alone, key change,
    /// delete with its tombstone, truncate: each as Debezium writes it.
    func testEveryOperationAsDebeziumEvents() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("ops")
        let q = SQL.quote(table)
        let mood = TestEnvironment.uniqueName("mood")
        try await h.pg.query("CREATE TYPE \(SQL.quote(mood)) AS ENUM ('sad', 'happy')")
        try await h.pg.query(
            """
            CREATE TABLE \(q) (id int PRIMARY KEY, name text, big text, amount numeric(10,2), at timestamptz, u uuid, j jsonb,
                               tags int[], b bytea, m \(SQL.quote(mood)))
            """)
        // skipped.operations=none: truncates are written too (Debezium 2 skips them by default).
        let source = try h.source([table], ["snapshot.mode": "no_data", "skipped.operations": "none"])
        let run = h.start(source)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        try await h.pg.query(
            """
            INSERT INTO \(q) VALUES (1, 'ann', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000) g), 12.34,
                                     '2024-05-06 07:08:09.123+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', '{1,2,3}', '\\x0102', 'happy')
            """)
        try await h.pg.query("UPDATE \(q) SET name = 'bea' WHERE id = 1")
        try await h.pg.query("UPDATE \(q) SET id = 2 WHERE id = 1")
        try await h.pg.query("DELETE FROM \(q) WHERE id = 2")
        try await h.pg.query("INSERT INTO \(q) (id) VALUES (3)")
        try await h.pg.query("TRUNCATE \(q)")
        // c, u, d + tombstone + c (key change), d + tombstone, c, t
        try await h.eventually("9 events") { source.throughput.total >= 9 }
        try await h.stop(run)
        let events = try await h.events(table, count: 9)
        XCTAssertEqual(events.count, 9)
        let inserts = events.filter { $0.op == "c" }
        XCTAssertEqual(inserts.compactMap(\.keyID).sorted(), [1, 2, 3])

        let first = try XCTUnwrap(inserts.first { $0.keyID == 1 })
        XCTAssertEqual(first.row("name"), .string("ann"))
        guard case .string(let big)? = first.row("big") else { return XCTFail("big") }
        XCTAssertEqual(big.count, 128_000)
        XCTAssertEqual(first.row("amount"), .decimal(DecimalValue("12.34", scale: 2)!))
        XCTAssertEqual(first.row("at"), .timestamp(1_714_972_089_123))
        XCTAssertEqual(first.row("u"), .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        XCTAssertEqual(first.row("j"), .string(#"{"k": [1, 2]}"#))
        XCTAssertEqual(first.row("tags"), .array([.int(1), .int(2), .int(3)]))
        XCTAssertEqual(first.row("b"), .bytes([1, 2]))
        XCTAssertEqual(first.row("m"), .string("happy"))
        let source1 = first.value?.value[field: "source"]
        XCTAssertEqual(source1?[field: "connector"], .string("postgresql"))
        XCTAssertEqual(source1?[field: "name"], .string(h.topicPrefix))
        XCTAssertEqual(source1?[field: "table"], .string(table))
        XCTAssertEqual(source1?[field: "schema"], .string("public"))
        XCTAssertNotNil(source1?[field: "lsn"].flatMap { $0.isNull ? nil : $0 })
        XCTAssertNotNil(source1?[field: "txId"].flatMap { $0.isNull ? nil : $0 })

        let update = try XCTUnwrap(events.first { $0.op == "u" })
        XCTAssertEqual(update.row("name"), .string("bea"))
        XCTAssertNil(update.row("big"), "the unchanged TOAST column is left out, never a placeholder")
        XCTAssertNil(update.value?.schema?.field(named: "after")?.schema.field(named: "big"), "and out of the after schema")

        let deletes = events.filter { $0.op == "d" }
        XCTAssertEqual(deletes.compactMap(\.keyID).sorted(), [1, 2], "the key change deletes the old key; then the delete")
        let tombstones = events.filter { $0.value == nil }
        XCTAssertEqual(tombstones.compactMap(\.keyID).sorted(), [1, 2], "a tombstone after each delete")
        XCTAssertEqual(deletes.first { $0.keyID == 2 }?.row("id", before: true), .int(2))
        XCTAssertEqual(events.filter { $0.op == "t" }.count, 1)
    }

    /// A graceful stop in the middle of one big transaction stores how far
    /// the broker got; the restart skips those changes by LSN.
    func testRestartInsideABigTransactionLosesAndDuplicatesNothing() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("resume")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY, v text)")
        let properties = ["max.batch.size": "20", "snapshot.mode": "no_data"]
        let first = try h.source([table], properties)
        let run1 = h.start(first)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g")
        try await h.eventually("part of the transaction") { first.throughput.total >= 200 }
        try await h.stop(run1)
        let sentFirst = first.throughput.total
        let stored = try await h.base.storedOffsets()["test-cdc/cdc"].flatMap(CDCPosition.init(json:))
        if sentFirst < 5000 { XCTAssertNotNil(stored?.partial, "stopped inside the transaction: the position says how far") }

        try await h.pg.query("INSERT INTO \(SQL.quote(table)) SELECT g, 'later' FROM generate_series(5001, 5100) g")
        let second = try h.source([table], properties)
        let run2 = h.start(second)
        try await h.eventually("the rest") { sentFirst + second.throughput.total >= 5100 }
        try await h.stop(run2)
        XCTAssertEqual(sentFirst + second.throughput.total, 5100)
        let events = try await h.events(table, count: 5100)
        XCTAssertEqual(events.count, 5100, "nothing sent twice")
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...5100), "nothing lost")
    }

    func testDroppedSlotIsAClearErrorNotASilentSnapshot() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("drop")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) VALUES (1)")
        let first = try h.source([table])
        let run = h.start(first)
        try await h.eventually("the snapshot") { first.throughput.total >= 1 }
        try await h.stop(run)
        // The stopped run's walsender may hold the slot a moment longer ("active for PID"): ended, then dropped.
        await CDCHarness.dropSlot(h.slot, h.pg)
        let dropped = try await h.confirmedFlush()
        XCTAssertNil(dropped, "the slot is gone")

        let second = try h.source([table])
        do {
            try await second.run()
            XCTFail("a dropped slot must stop the source")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("replication slot '\(h.slot)' does not exist"), text)
            XCTAssertTrue(text.contains("Not re-snapshotting"), text)
        }
        XCTAssertEqual(second.throughput.total, 0)
        let recreated = try await h.confirmedFlush()
        XCTAssertNil(recreated, "the slot is not recreated behind the user's back")
    }

    /// A slot this connector has no offsets for is another consumer's: never dropped or re-snapshotted.
    func testSomeoneElsesSlotIsNotTakenOver() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("foreign")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
        try await h.pg.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [h.slot])
        let source = try h.source([table])
        do {
            try await source.run()
            XCTFail("another consumer's slot must stop the source")
        } catch {
            XCTAssertTrue("\(error)".contains("replication slot '\(h.slot)' cannot be used"), "\(error)")
            XCTAssertTrue("\(error)".contains("snapshot.mode=no_data"), "\(error)")
        }
        let stillThere = try await h.confirmedFlush()
        XCTAssertNotNil(stillThere, "the slot is left alone")
    }

    /// A run that died in its snapshot: the next run drops its own slot and snapshots again.
    func testAnUnfinishedSnapshotIsDoneAgain() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("again")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
        try await h.pg.query("INSERT INTO \(SQL.quote(table)) SELECT g FROM generate_series(1, 50) g")
        // What a crashed run leaves: its slot, and offsets saying the snapshot did not complete.
        let point = try await h.pg.query("SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", [h.slot])[0][0]!
        try await FileOffsetStore(path: h.base.offsetPath).store(["test-cdc/cdc": CDCPosition(committed: LSN(point)!, snapshotCompleted: false).json])
        let source = try h.source([table])
        let run = h.start(source)
        try await h.eventually("the snapshot") { source.throughput.total >= 50 }
        try await h.stop(run)
        let stored = try await h.storedPosition()
        XCTAssertEqual(stored?.snapshotCompleted, true)
        let events = try await h.events(table, count: 50)
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...50))
    }

    /// Writes to a table outside the publication move the server's WAL; heartbeats
    /// let the idle slot confirm up to there, so it releases that WAL.
    func testHeartbeatsAdvanceAnIdleSlot() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("idle"), other = TestEnvironment.uniqueName("busy")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
        try await h.pg.query("CREATE TABLE \(SQL.quote(other)) (id int)")
        let source = try h.source([table], ["heartbeat.interval.ms": "100", "snapshot.mode": "no_data"])
        let run = h.start(source)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        let before = try await h.confirmedFlush()!
        try await h.pg.query("INSERT INTO \(SQL.quote(other)) SELECT g FROM generate_series(1, 1000) g")
        let target = LSN(try await h.pg.query("SELECT pg_current_wal_lsn()::text")[0][0]!)!
        XCTAssertGreaterThan(target, before)
        try await h.eventually("confirmed_flush_lsn past the other table's writes") { try await h.confirmedFlush()! >= target }
        try await h.stop(run)
        XCTAssertGreaterThan(source.throughput.total, 0, "heartbeats were sent (the table itself stayed idle)")
    }
}

/// Replica identities and lost connections.
final class CDCStreamTests: XCTestCase {
    /// REPLICA IDENTITY FULL: updates and deletes carry the whole old row in `before`.
    func testReplicaIdentityFullGivesTheOldRow() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("full")
        let q = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(q) (id int PRIMARY KEY, name text)")
        try await h.pg.query("ALTER TABLE \(q) REPLICA IDENTITY FULL")
        let source = try h.source([table], ["snapshot.mode": "no_data", "tombstones.on.delete": "false"])
        let run = h.start(source)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        try await h.pg.query("INSERT INTO \(q) VALUES (1, 'ann')")
        try await h.pg.query("UPDATE \(q) SET name = 'bea' WHERE id = 1")
        try await h.pg.query("DELETE FROM \(q) WHERE id = 1")
        try await h.eventually("3 events") { source.throughput.total >= 3 }
        try await h.stop(run)
        let events = try await h.events(table, count: 3)
        let update = try XCTUnwrap(events.first { $0.op == "u" })
        XCTAssertEqual(update.row("name", before: true), .string("ann"))
        XCTAssertEqual(update.row("name"), .string("bea"))
        let delete = try XCTUnwrap(events.first { $0.op == "d" })
        XCTAssertEqual(delete.row("name", before: true), .string("bea"))
        XCTAssertEqual(events.filter { $0.value == nil }.count, 0, "tombstones.on.delete=false")
    }

    /// The replication connection is killed mid-stream: the source reconnects
    /// and resumes from the confirmed position, with nothing lost.
    func testLostReplicationConnectionResumes() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("lost")
        let q = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(q) (id int PRIMARY KEY)")
        let source = try h.source([table], ["snapshot.mode": "no_data"])
        let run = h.start(source)
        try await h.eventually("the slot's position stored") { try await h.storedPosition() != nil }
        let created = try await h.storedPosition()!.committed
        try await h.pg.query("INSERT INTO \(q) SELECT g FROM generate_series(1, 100) g")
        // Stored (and confirmed) past the insert's commit: the resume point is known.
        try await h.eventually("100 rows stored") { try await h.storedPosition().map { $0.committed > created && $0.partial == nil } ?? false }
        XCTAssertEqual(source.throughput.total, 100)
        let killed = try await h.pg.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", [h.slot])
        XCTAssertEqual(killed.first?[0], "t")
        try await h.pg.query("INSERT INTO \(q) SELECT g FROM generate_series(101, 200) g")
        try await h.eventually("200 rows") { source.throughput.total >= 200 }
        try await h.stop(run)
        let events = try await h.events(table, count: 200)
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...200))
        XCTAssertEqual(events.count, 200, "resumed from the confirmed position: nothing sent twice")
    }

    /// PostgreSQL restarts mid-stream: the slot survives, the source waits the
    /// outage out and resumes from the confirmed position.
    func testPostgresRestartMidStreamResumes() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("pgrestart")
        let q = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(q) (id int PRIMARY KEY)")
        let source = try h.source([table], ["snapshot.mode": "no_data"])
        let run = h.start(source)
        try await h.eventually("the slot's position stored") { try await h.storedPosition() != nil }
        let created = try await h.storedPosition()!.committed
        try await h.pg.query("INSERT INTO \(q) SELECT g FROM generate_series(1, 100) g")
        try await h.eventually("100 rows stored") { try await h.storedPosition().map { $0.committed > created && $0.partial == nil } ?? false }
        try await PostgresServer.restart(down: .seconds(1))
        _ = try? await h.pg.query("SELECT 1")  // the harness's own connection was cut: reconnect
        try await h.pg.query("INSERT INTO \(q) SELECT g FROM generate_series(101, 200) g")
        try await h.eventually("200 rows") { source.throughput.total >= 200 }
        try await h.stop(run)
        let events = try await h.events(table, count: 200)
        XCTAssertEqual(Set(events.compactMap(\.keyID)), Set(1...200))
        XCTAssertEqual(events.count, 200)
    }
}

/// Schema changes in mid-stream.
final class CDCSchemaChangeTests: XCTestCase {
    /// ALTER TABLE while streaming: the next Relation message gives later events the new schema.
    func testRelationMessageMidStreamGivesANewSchema() async throws {
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("evolve")
        let q = SQL.quote(table)
        try await h.pg.query("CREATE TABLE \(q) (id int PRIMARY KEY, name text)")
        let source = try h.source([table], ["snapshot.mode": "no_data"])
        let run = h.start(source)
        try await h.eventually("the slot") { try await h.confirmedFlush() != nil }
        try await h.pg.query("INSERT INTO \(q) VALUES (1, 'ann')")
        try await h.pg.query("ALTER TABLE \(q) ADD COLUMN score numeric(6,1)")
        try await h.pg.query("INSERT INTO \(q) VALUES (2, 'bob', 12.5)")
        try await h.eventually("2 events") { source.throughput.total >= 2 }
        try await h.stop(run)
        let events = try await h.events(table, count: 2)
        let first = try XCTUnwrap(events.first { $0.keyID == 1 }), second = try XCTUnwrap(events.first { $0.keyID == 2 })
        XCTAssertNil(first.value?.schema?.field(named: "after")?.schema.field(named: "score"))
        XCTAssertEqual(second.value?.schema?.field(named: "after")?.schema.field(named: "score")?.schema.decimalScale, 1)
        XCTAssertEqual(second.row("score"), .decimal(DecimalValue("12.5", scale: 1)!))
    }
}

/// Topics on the embedded broker.
final class CDCTopicTests: XCTestCase {
    func testPrepareTopicsCreatesTheTableTopicsOnTheEmbeddedBroker() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        let h = try CDCHarness()
        addTeardownBlock { await h.close() }  // also when the test fails: no slot is left behind
        let table = TestEnvironment.uniqueName("topics")
        try await h.pg.query("CREATE TABLE \(SQL.quote(table)) (id int PRIMARY KEY)")
        let producer = try KafkaProducer(configuration: cluster.configuration)
        let source = try PostgresCDCSource(
            properties: try h.properties([table], ["heartbeat.interval.ms": "1000"]), producer: producer, kafka: cluster.configuration)
        try await source.prepareTopics()
        let topics = Set(try await KafkaAdmin(configuration: cluster.configuration).topics().map(\.name))
        XCTAssertTrue(topics.contains(h.topic(table)), "\(topics)")
        // The heartbeat topic is created too, but KafkaAdmin.topics() leaves out names starting with "__",
        // and the embedded broker auto-creates any topic asked about: not checked here.
        await producer.close()
    }
}
