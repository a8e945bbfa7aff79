import DataGen
import PipelineCore
import XCTest

@testable import PostgresSource

final class TableWriterTests: XCTestCase {
    func testCreatesTableAndCopiesRowsByKey() async throws {
        let client = try TestEnvironment.client()
        let name = TableName(TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: client, table: usersTable(name, seed: 11))
        try await writer.createTableIfMissing()
        try await writer.createTableIfMissing()  // idempotent
        let reports = Reports()
        let result = try await writer.generate(GenerateOptions(rows: 2_500, batchSize: 1_000)) { reports.add($0) }
        XCTAssertEqual(result.inserted, 2_500)
        XCTAssertTrue(result.finished)
        XCTAssertEqual(reports.values.filter { !$0.finished }.map(\.inserted), [1_000, 2_000, 2_500])

        let count = try await client.query("SELECT count(*), min(\"index\"), max(\"index\"), count(DISTINCT email) FROM \(name.quoted)")
        XCTAssertEqual(count, [["2500", "1", "2500", "2500"]])
        // Row k holds DataGen's row k.
        let generator = UserGenerator(seed: 11)
        let rows = try await client.query(
            "SELECT \"index\", first_name, email, zip, birthdate::text, created_at::text FROM \(name.quoted) WHERE \"index\" IN (1, 777, 2500) ORDER BY 1")
        for row in rows {
            let expected = generator.row(Int64(row[0]!)!)
            XCTAssertEqual(row[1], expected.firstName)
            XCTAssertEqual(row[2], expected.email)
            XCTAssertEqual(row[3], expected.zip)
            XCTAssertEqual(row[4], expected.birthdate.description)
            XCTAssertEqual(row[5], CivilTime.formatTimestamp(micros: expected.createdAt))
        }
        try await client.query("DROP TABLE \(name.quoted)")
        await client.close()
    }

    func testUpdatesBumpUpdatedAtOfAboutTheFraction() async throws {
        let client = try TestEnvironment.client()
        let name = TableName(schema: "public", TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: client, table: usersTable(name))
        try await writer.createTableIfMissing()
        try await writer.generate(GenerateOptions(rows: 4_000))
        let before = try await client.query("SELECT max(updated_at)::text FROM \(name.quoted)")[0][0]!
        let result = try await writer.generate(GenerateOptions(rows: 0, updateFraction: 0.25, seed: 3))
        XCTAssertEqual(result.inserted, 0)
        XCTAssertTrue((800...1_200).contains(result.updated), "\(result.updated)")
        let changed = try await client.query("SELECT count(*) FROM \(name.quoted) WHERE updated_at > $1::timestamptz", [before])
        XCTAssertEqual(changed[0][0], String(result.updated))
        try await client.query("DROP TABLE \(name.quoted)")
        await client.close()
    }

    func testRateLimitedRunWritesEveryRow() async throws {
        let client = try TestEnvironment.client()
        let name = TableName(TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: client, table: usersTable(name))
        try await writer.createTableIfMissing()
        let result = try await writer.generate(GenerateOptions(rows: 300, rowsPerSecond: 1_000))
        XCTAssertEqual(result.inserted, 300)
        let count = try await client.query("SELECT count(*) FROM \(name.quoted)")[0][0]
        XCTAssertEqual(count, "300")
        try await client.query("DROP TABLE \(name.quoted)")
        await client.close()
    }

    func testCancellationStopsBetweenBatches() async throws {
        let client = try TestEnvironment.client()
        let name = TableName(TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: client, table: usersTable(name))
        try await writer.createTableIfMissing()
        let task = Task { try await writer.generate(GenerateOptions(rows: 1_000_000, rowsPerSecond: 200)) }
        while try await client.query("SELECT count(*) FROM \(name.quoted)")[0][0] == "0" { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        let result = try await task.value
        XCTAssertFalse(result.finished)
        XCTAssertLessThan(result.inserted, 1_000_000)
        let count = try await client.query("SELECT count(*) FROM \(name.quoted)")[0][0]
        XCTAssertEqual(count, String(result.inserted))
        try await client.query("DROP TABLE \(name.quoted)")
        await client.close()
    }
}

/// Collects progress reports from the writer's callback.
final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [GenerateProgress] = []
    func add(_ report: GenerateProgress) { lock.withLock { storage.append(report) } }
    var values: [GenerateProgress] { lock.withLock { storage } }
}
