import Foundation
import XCTest

/// One end-to-end run: a fresh scenario on the shared servers, the worker
/// process, the concurrent writers, and readers for every store.
final class PipelineRun: @unchecked Sendable {
    // @unchecked: driven by one test task.
    let environment: E2EEnvironment
    let scenario: Scenario
    let worker: WorkerProcess
    let postgres: PostgresTable
    let mysql: MySQLReader
    let s3: S3Reader
    let kafka: TopicReader
    var writers: ConcurrentWriters

    /// Partitions of the topic, created before the pipeline starts. The
    /// embedded broker keeps about 5 MiB per partition and silently prunes
    /// older records; the seed's rows are ~1.5 KB as Connect JSON with schema,
    /// so 20,000 of them (~30 MB) need at least 7 partitions to all stay
    /// readable. (Auto-creation would give the broker's default of 4, and a
    /// sink restarted behind the pruned start would, rightly, fail.)
    static let partitions = 8

    /// Sets up the names, the Postgres table and the topic; starts nothing.
    /// With `embeddedBroker` the topic is left to the worker, which runs its own cluster.
    init(label: String, s3Overrides: [String: String] = [:], sourceOverrides: [String: String] = [:], embeddedBroker: Bool = false) async throws {
        environment = try E2EEnvironment.load()
        scenario = try Scenario(environment: environment, label: label, s3Overrides: s3Overrides, sourceOverrides: sourceOverrides)
        worker = WorkerProcess(scenario: scenario, environment: environment)
        postgres = PostgresTable(environment: environment, table: scenario.table)
        mysql = try MySQLReader(environment: environment, table: scenario.topic)
        s3 = try S3Reader(environment: environment, topicsDir: scenario.topicsDir, topic: scenario.topic)
        kafka = try TopicReader(environment: environment, topic: scenario.topic)
        writers = ConcurrentWriters(url: environment.postgresURL, table: scenario.table)
        try await postgres.create(in: scenario.directory)
        if !embeddedBroker { try await kafka.create(partitions: Self.partitions, control: environment.brokerControl) }
    }

    /// Polls `condition` until it holds. The deadline only keeps a broken
    /// pipeline from hanging the suite; nothing is asserted about speed.
    /// A worker that dies meanwhile ends the wait at once.
    func eventually(
        _ what: String, within seconds: Double, every interval: Duration = .milliseconds(500),
        status: () async -> String = { "" }, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            try worker.checkAlive()
            guard Date() < deadline else {
                throw E2EFailure("gave up after \(Int(seconds)) s waiting for \(what); \(await status())\nworker log tail:\n\(worker.logTail())")
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Waits until MySQL and S3 each hold at least `rows` rows. S3 is looked
    /// at only after MySQL, and less often: each look lists every object, and
    /// the S3 server is the pipeline's bottleneck here (its CPU is shared).
    func waitUntilDelivered(rows: Int, within seconds: Double = 180) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        try await eventually("MySQL to hold \(rows) rows", within: seconds, every: .seconds(1), status: progress) {
            try await mysql.count() >= rows
        }
        try await eventually("S3 to hold \(rows) records", within: deadline.timeIntervalSinceNow, every: .seconds(3), status: progress) {
            try await s3.recordCount() >= rows
        }
    }

    /// Where each store is, for messages.
    func progress() async -> String {
        let topic = (try? await kafka.recordCount()).map(String.init) ?? "?"
        let inMySQL = (try? await mysql.count()).map(String.init) ?? "?"
        let inS3 = (try? await s3.recordCount()).map(String.init) ?? "?"
        return "topic \(scenario.topic): \(topic) records, MySQL: \(inMySQL) rows, S3: \(inS3) records"
    }

    /// Compares MySQL and S3 with Postgres: every row exactly once, same
    /// content; S3 objects named and laid out as Confluent's sink does.
    /// `watermarks` stands in for the topic's when the broker is out of reach
    /// (the worker's own embedded cluster, gone with it).
    func assertExactlyOnce(
        rows: Int, watermarks: [Int32: (low: Int64, high: Int64)]? = nil, file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let source = try await postgres.rows()
        let expected = Dictionary(source, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(source.count, rows, "rows in Postgres", file: file, line: line)
        XCTAssertEqual(expected.count, rows, "distinct indexes in Postgres", file: file, line: line)

        let marks: [Int32: (low: Int64, high: Int64)]
        if let watermarks { marks = watermarks } else { marks = try await kafka.watermarks() }
        let topicRecords = marks.values.reduce(0) { $0 + $1.high }
        // Pruning after the sinks consumed is harmless (and every check below
        // still holds); before, a sink fails loudly. Worth a line either way.
        let pruned = marks.filter { $0.value.low > 0 }
        if !pruned.isEmpty { print("note: the broker pruned the start of \(scenario.topic): \(pruned)") }
        // Not an assertion of its own: it says which hop duplicated, if any.
        let topicNote = "(the topic holds \(topicRecords) records for \(rows) rows"
            + (topicRecords > rows ? ": the source sent \(Int(topicRecords) - rows) rows more than once)" : ")")

        let inMySQL = Delivery(store: "MySQL table \(scenario.topic)", rows: try await mysql.rows(), expected: expected)
        XCTAssertTrue(inMySQL.isExactlyOnce, "\(inMySQL) \(topicNote)", file: file, line: line)
        XCTAssertEqual(inMySQL.total, rows, "MySQL row count", file: file, line: line)
        // The sink's own guarantee, whatever the source did: one row per record.
        XCTAssertEqual(Int64(inMySQL.total), topicRecords, "MySQL rows vs records in the topic", file: file, line: line)

        let objects = try await s3.objects()
        let records = objects.values.flatMap { $0 }.map { (index: $0.index, email: $0.email) }
        let inS3 = Delivery(store: "S3 under \(s3.prefix) (\(objects.count) objects)", rows: records, expected: expected)
        XCTAssertTrue(inS3.isExactlyOnce, "\(inS3) \(topicNote)", file: file, line: line)
        XCTAssertEqual(inS3.total, rows, "S3 record count", file: file, line: line)
        // Also the S3 sink's own guarantee: each topic offset in exactly one object.
        let layout = S3Layout.problems(objects, topicsDir: scenario.topicsDir, topic: scenario.topic, watermarks: marks)
        XCTAssertTrue(layout.isEmpty, "S3 layout: " + layout.prefix(10).joined(separator: "\n"), file: file, line: line)
        print("\(scenario.topic): Postgres \(source.count) rows, topic \(topicRecords) records in \(marks.count) partitions, "
            + "MySQL \(inMySQL.total) rows, S3 \(inS3.total) records in \(objects.count) objects")
    }

    /// Stops the worker with SIGTERM and checks it exits 0, as a graceful
    /// stop (finish the batch, commit) must.
    func stopGracefully(file: StaticString = #filePath, line: UInt = #line) async throws {
        let ending = try await worker.stop(SIGTERM)
        XCTAssertEqual(ending, .exited(0), "worker after SIGTERM; log tail:\n\(worker.logTail())", file: file, line: line)
    }

    /// Ends the run: a leftover worker is killed; the tables and the working
    /// directory go only when the test passed (otherwise they are evidence).
    /// S3 objects stay: S3Client has no batch delete, thousands of single
    /// DELETEs would take longer than the test, and the prefix is unique.
    func finish(passed: Bool) async {
        worker.killIfRunning()
        if passed {
            await postgres.drop()
            await mysql.drop()
            scenario.removeDirectory()
        } else {
            print("end-to-end run kept for inspection: \(scenario.directory.path) (worker.log, connector files), "
                + "Postgres table \(scenario.table), MySQL table \(scenario.topic), S3 prefix \(s3.prefix)")
        }
        await mysql.close()
    }
}
