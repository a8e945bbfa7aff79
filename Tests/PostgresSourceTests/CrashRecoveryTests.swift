import Foundation
import PipelineCore
import XCTest

@testable import PostgresSource

/// A worker killed after the broker acknowledged rows but before their offset
/// was stored must not produce them twice on restart (see ``DeliveredRecords``).
/// The crash is reproduced deterministically: the offset file saved at an
/// earlier store is put back after a later run delivered more rows, which is
/// exactly what a kill between the acknowledgement and the next store leaves.
final class CrashRecoveryTests: XCTestCase {
    func testRowsAckedButNotRecordedAreNotSentAgainInIncrementingMode() async throws {
        try await crashAndRestart(mode: ["mode": "incrementing", "incrementing.column.name": "id"])
    }

    /// Rows share timestamps, so a page's last rows are covered only once a later timestamp is seen.
    func testRowsAckedButNotRecordedAreNotSentAgainInTimestampMode() async throws {
        try await crashAndRestart(mode: ["mode": "timestamp", "timestamp.column.name": "ts"])
    }

    func crashAndRestart(mode: [String: String], file: StaticString = #filePath, line: UInt = #line) async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("crash")
        let quoted = SQL.quote(table)
        let topic = h.topicPrefix + table
        let partition = "test-source/public.\(table)"
        try await h.pg.query("CREATE TABLE \(quoted) (id bigint PRIMARY KEY, v int NOT NULL, ts timestamptz NOT NULL)")
        func insert(_ range: ClosedRange<Int>) async throws {
            // Four rows per timestamp (pages hold ten), increasing with the id; no timestamp spans two inserts.
            try await h.pg.query("""
                INSERT INTO \(quoted) (id, v, ts) SELECT g, g, timestamptz '2024-01-01 00:00:00+00' + ((g - 1) / 4) * interval '1 second'
                FROM generate_series(\(range.lowerBound), \(range.upperBound)) g
                """)
        }
        var properties = ["table.whitelist": table, "batch.max.rows": "10"]
        properties.merge(mode) { _, new in new }
        func run(untilStored rows: Int) async throws {
            let task = h.start(try h.source(properties, recovery: true))
            try await h.eventually("\(rows) rows recorded") {
                let delivered = try await h.storedOffsets()[partition].flatMap(SourceOffset.init(json:))
                return try await self.covers(delivered, rows: rows, h: h, table: quoted)
            }
            try await h.stop(task)
        }

        try await insert(1...500)
        try await run(untilStored: 500)
        let earlier = try await h.storedOffsets()[partition]!
        let positions = try XCTUnwrap(SourceOffset(json: earlier)?.kafka, "the offset carries Kafka positions", file: file, line: line)
        XCTAssertEqual(positions.topic, topic, file: file, line: line)
        XCTAssertFalse(positions.offsets.isEmpty, file: file, line: line)

        try await insert(501...1200)
        try await run(untilStored: 1200)
        XCTAssertEqual(h.delivered(), 1200, file: file, line: line)

        // The kill: rows 501…1200 are in Kafka, the offset file still says 500.
        try await FileOffsetStore(path: h.offsetPath).store([partition: earlier])
        // Meanwhile ten of those rows change (their new versions must be sent), and more arrive.
        try await h.pg.query("UPDATE \(quoted) SET v = -v WHERE id BETWEEN 600 AND 609")
        try await insert(1201...1300)
        try await run(untilStored: 1300)
        XCTAssertEqual(h.delivered(), 1200 + 10 + 100, "only changed and new rows were sent after the restart", file: file, line: line)

        // Killed again before anything after the first store was recorded: the
        // records of both earlier runs are recognised, nothing is sent.
        try await FileOffsetStore(path: h.offsetPath).store([partition: earlier])
        try await run(untilStored: 1300)
        XCTAssertEqual(h.delivered(), 1310, "a second restart from the same offset sent nothing", file: file, line: line)

        let records = try await h.consume(topic, count: 1310)
        var versions: [Int64: [Int64]] = [:]
        for record in records { versions[record.int("id")!, default: []].append(record.int("v")!) }
        XCTAssertEqual(versions.count, 1300, file: file, line: line)
        for id in Int64(1)...1300 {
            let expected: [Int64] = (600...609).contains(id) ? [id, -id] : [id]
            XCTAssertEqual(versions[id]?.sorted(by: >), expected.sorted(by: >), "versions of row \(id)", file: file, line: line)
        }
        await h.close()
    }

    /// A run killed before it stored any row position (the first store comes
    /// at most a second into a range) must not send the table again on
    /// restart: before its first row, the source stores the topic's
    /// positions alone. The kill is reproduced by putting that first offset
    /// back after a run that delivered every row.
    func testRowsSentBeforeTheFirstStoredPositionAreNotSentAgain() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("firstrun")
        let quoted = SQL.quote(table)
        let partition = "test-source/public.\(table)"
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        let properties = ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "50"]
        func run(until condition: @escaping () async throws -> Bool) async throws {
            let task = h.start(try h.source(properties, recovery: true))
            try await h.eventually("the offset to be stored", condition)
            try await h.stop(task)
        }

        try await run { try await h.storedOffsets()[partition] != nil }
        let first = try await h.storedOffsets()[partition]!
        let stored = try XCTUnwrap(SourceOffset(json: first), "\(first.text)")
        XCTAssertFalse(stored.hasRowPosition, "stored before any row: \(first.text)")
        XCTAssertNotNil(stored.kafka, "the first offset carries the topic's positions: \(first.text)")

        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 300) g")
        try await run { try await h.storedOffsets()[partition].flatMap(SourceOffset.init(json:))?.incrementing == 300 }
        XCTAssertEqual(h.delivered(), 300)

        // The kill: all 300 rows are in Kafka, the offset file holds only the first offset.
        try await FileOffsetStore(path: h.offsetPath).store([partition: first])
        try await run { try await h.storedOffsets()[partition].flatMap(SourceOffset.init(json:))?.incrementing == 300 }
        XCTAssertEqual(h.delivered(), 300, "the restart recognised every row as delivered and sent none")
        let records = try await h.consume(h.topicPrefix + table, count: 300)
        XCTAssertEqual(records.count, 300)
        XCTAssertEqual(Set(records.compactMap { $0.int("id") }).count, 300)
        await h.close()
    }

    /// An offset file written before Kafka positions were stored still loads:
    /// the rows after it are sent again (at-least-once), and from then on the
    /// stored offsets carry positions.
    func testOffsetFileWithoutKafkaPositionsStillWorks() async throws {
        let h = try SourceHarness()
        let table = TestEnvironment.uniqueName("oldfile")
        let quoted = SQL.quote(table)
        let partition = "test-source/public.\(table)"
        try await h.pg.query("CREATE TABLE \(quoted) (id bigserial PRIMARY KEY, v int NOT NULL)")
        try await h.pg.query("INSERT INTO \(quoted) (v) SELECT g FROM generate_series(1, 300) g")
        let properties = ["mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "batch.max.rows": "50"]
        let first = h.start(try h.source(properties, recovery: true))
        try await h.eventually("300 rows") { h.delivered() >= 300 }
        try await h.stop(first)

        try await FileOffsetStore(path: h.offsetPath).store([partition: .object([("incrementing", .int(200))])])
        let second = h.start(try h.source(properties, recovery: true))
        try await h.eventually("the last 100 rows again") { h.delivered() >= 400 }
        try await h.stop(second)
        let offsets = try await h.storedOffsets()
        let stored = try XCTUnwrap(offsets[partition].flatMap(SourceOffset.init(json:)))
        XCTAssertEqual(stored.incrementing, 300)
        XCTAssertNotNil(stored.kafka, "offsets stored from now on carry Kafka positions")

        let records = try await h.consume(h.topicPrefix + table, count: 400)
        XCTAssertEqual(records.map { $0.int("id")! }.sorted(), (Array(1...300) + Array(201...300)).sorted())
        await h.close()
    }

    func testKafkaPositionsRoundTripThroughJSON() throws {
        let offset = SourceOffset(timestamp: "2024-01-01 00:00:00+00", incrementing: 7, kafka: KafkaPositions(topic: "P_USERS", offsets: [0: 12, 3: 0]))
        XCTAssertEqual(offset.json.text, #"{"timestamp":"2024-01-01 00:00:00+00","incrementing":7,"kafka":{"topic":"P_USERS","offsets":{"0":12,"3":0}}}"#)
        XCTAssertEqual(SourceOffset(json: offset.json), offset)
        XCTAssertEqual(SourceOffset(json: try JSON.parse(Array(#"{"incrementing":7}"#.utf8))), SourceOffset(incrementing: 7))
    }

    /// Whether `offset` covers the first `rows` rows (by id): in timestamp mode, the timestamp of row `rows`.
    func covers(_ offset: SourceOffset?, rows: Int, h: SourceHarness, table: String) async throws -> Bool {
        guard let offset else { return false }
        if let incrementing = offset.incrementing { return incrementing >= rows }
        guard let timestamp = offset.timestamp else { return false }
        let result = try await h.pg.query("SELECT $1::timestamptz >= (SELECT max(ts) FROM \(table) WHERE id <= \(rows))", [timestamp])
        return (result.first?.first ?? nil) == "t"
    }
}

/// The multiset of delivered records and the positions stored while it lives.
final class DeliveredRecordsTests: XCTestCase {
    func message(_ key: String?, _ value: String, partition: Int32, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: partition, offset: offset, key: key.map { Array($0.utf8) }, value: Array(value.utf8))
    }

    func testEachDeliveredRecordIsTakenOnceByExactBytes() {
        var delivered = DeliveredRecords([
            message("1", "a", partition: 0, offset: 5), message("1", "a", partition: 0, offset: 9), message(nil, "b", partition: 1, offset: 3),
        ])
        XCTAssertEqual(delivered.take(message("1", "a", partition: -1, offset: -1)), .init(partition: 0, offset: 5), "the oldest first")
        XCTAssertNil(delivered.take(message("1", "a2", partition: -1, offset: -1)), "a changed value is sent")
        XCTAssertNil(delivered.take(message(nil, "a", partition: -1, offset: -1)), "the key is part of the bytes")
        XCTAssertEqual(delivered.take(message(nil, "b", partition: -1, offset: -1)), .init(partition: 1, offset: 3), "any partition: keyless records are spread at random")
        XCTAssertEqual(delivered.take(message("1", "a", partition: -1, offset: -1)), .init(partition: 0, offset: 9), "a record delivered twice is skipped twice")
        XCTAssertNil(delivered.take(message("1", "a", partition: -1, offset: -1)), "and not a third time")
        XCTAssertTrue(delivered.isEmpty)
    }

    /// A second crash while re-reading must still find every record not yet re-read:
    /// the stored positions stay below the first of them, whatever was sent since.
    func testPositionsStayBelowRecordsNotYetReadAgain() {
        var recovery = Recovery(pending: false, covered: [0: 100, 1: 50], delivered: DeliveredRecords([
            message("1", "a", partition: 0, offset: 100), message("2", "b", partition: 0, offset: 101), message("3", "c", partition: 1, offset: 50),
        ]))
        // Row 1 is skipped (its record is at 0/100), a new version of row 3 is sent to 1/60.
        let skipped = recovery.delivered!.take(message("1", "a", partition: -1, offset: -1))!
        Recovery.advance(&recovery.covered!, with: [skipped, .init(partition: 1, offset: 60)])
        XCTAssertEqual(recovery.positions(topic: "t"), KafkaPositions(topic: "t", offsets: [0: 101, 1: 50]))
        recovery.delivered = nil  // caught up: the old version of row 3 will never be read again
        XCTAssertEqual(recovery.positions(topic: "t"), KafkaPositions(topic: "t", offsets: [0: 101, 1: 61]))
    }
}
