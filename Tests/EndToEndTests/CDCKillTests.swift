import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary run` with Debezium's PostgreSQL connector and the MySQL sink,
/// SIGKILLed at random moments while writers insert, update and delete:
/// MySQL ends equal to Postgres, and the topic holds no change event twice
/// (by `source.lsn` and key), though each kill cut into events acknowledged
/// or written but not yet stored as delivered, in the middle of a transaction.
final class CDCKillTests: XCTestCase {
    static let kills = 3

    func testKilledWithSIGKILLAtRandomWhileWritersChangeRows() async throws {
        let environment = try E2EEnvironment.load()
        let scenario = try Scenario(cdc: environment, label: "cdc-kill")
        let worker = WorkerProcess(scenario: scenario, environment: environment)
        let pg = PostgresClient(settings: try ConnectionSettings(url: environment.postgresURL), name: "e2e-cdc-kill")
        let mysql = MySQLConnection(options: try MySQLConnectionOptions(url: environment.mysqlURL))
        let kafka = KafkaConfiguration(bootstrapServers: environment.bootstrapServers)
        let table = SQL.quote(scenario.table)
        addTeardownBlock {
            worker.killIfRunning()
            await pg.dropSlot(scenario.slot)
            _ = try? await pg.query("DROP PUBLICATION IF EXISTS \(SQL.quote(scenario.publication))")
            _ = try? await pg.query("DROP TABLE IF EXISTS \(table)")
            _ = try? await mysql.execute("DROP TABLE IF EXISTS `\(scenario.table)`")
            await mysql.close()
            await pg.close()
        }
        try await pg.query("CREATE TABLE \(table) (id bigint PRIMARY KEY, v int NOT NULL, note text)")
        try await pg.query("INSERT INTO \(table) SELECT g, 0, 'snapshot ' || g FROM generate_series(1, 200) g")
        // The broker keeps ~5 MiB a partition; change events with their schemas are ~1 KB, and
        // the duplicate check reads the whole topic: 16 partitions keep every event.
        try await TopicReader(environment: environment, topic: scenario.topic).create(partitions: 16, control: environment.brokerControl)

        let topic = try TopicReader(environment: environment, topic: scenario.topic)
        let writers = ChangeWriters(url: environment.postgresURL, table: scenario.table, connections: 3, duration: .seconds(10))
        try worker.start()
        try await eventually("the snapshot to be stored complete", within: 60, worker: worker) { Self.snapshotStored(in: scenario.directory) }
        let writing = Task { try await writers.run() }
        defer { writing.cancel() }
        for kill in 1...Self.kills {
            let before = try await topic.recordCount()
            // Mid-stream: the source is sending (the topic grew) when the kill comes.
            try await eventually("the source to stream after start \(kill)", within: 60, worker: worker) {
                try await topic.recordCount() > before + 20
            }
            // A transaction of 1,000 rows, sent in batches of max.batch.size 50 (no idle poll
            // between them settles the window): the kill comes in the middle of it, with its
            // first events acknowledged (or only written) but not yet stored as delivered.
            let bulk = try await topic.recordCount()
            try await pg.query("INSERT INTO \(table) SELECT g, 0, 'bulk' FROM generate_series(\(9_000_000 + kill * 1000), \(9_000_999 + kill * 1000)) g")
            try await eventually("the bulk transaction to stream", within: 60, worker: worker) { try await topic.recordCount() > bulk + 100 }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...200)))
            let ending = try await worker.stop(SIGKILL)
            XCTAssertEqual(ending, .signalled(SIGKILL))
            try worker.start()
        }
        let changes = try await writing.value
        print("writers: \(changes) changes in 10 s, worker killed \(Self.kills) times")

        let expected = try await pg.query("SELECT t.id::text, t.v::text, t.note FROM \(table) t ORDER BY t.id")
        func inMySQL() async throws -> [[String?]] {
            let exists = try await mysql.query(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(scenario.table)])
            guard exists.first?.first == "1" else { return [] }
            return try await mysql.query("SELECT CAST(`id` AS CHAR), CAST(`v` AS CHAR), `note` FROM `\(scenario.table)` ORDER BY `id`")
        }
        do {
            try await eventually("MySQL equal to Postgres", within: 90, worker: worker) { try await inMySQL() == expected }
        } catch {
            let actual = (try? await inMySQL()) ?? []
            XCTFail("MySQL: \(actual.count) rows, Postgres \(expected.count); missing \(expected.filter { !actual.contains($0) }.prefix(5)), unexpected \(actual.filter { !expected.contains($0) }.prefix(5))")
            throw error
        }
        let ending = try await worker.stop(SIGTERM)
        XCTAssertEqual(ending, .exited(0), worker.logTail())

        let events = try await Self.events(topic, kafka: kafka)
        var seen: [String: Int] = [:]
        for event in events { seen[event, default: 0] += 1 }
        let twice = seen.filter { $0.value > 1 }
        XCTAssertTrue(twice.isEmpty, "\(twice.count) of \(seen.count) change events are in the topic more than once, e.g. \(twice.keys.sorted().prefix(5))")
        let recoveries = worker.log().components(separatedBy: "were delivered after the stored position").count - 1
        XCTAssertGreaterThan(recoveries, 0, "no restart found events delivered after its stored position: the kills proved nothing\n\(worker.logTail())")
        print("topic: \(events.count) change events, \(recoveries) restart(s) recognised events delivered after their stored position")
        if testRun?.totalFailureCount == 0 { scenario.removeDirectory() }
    }

    /// Whether the source's offset in the worker's offset files says the snapshot completed.
    static func snapshotStored(in directory: URL) -> Bool {
        let folder = directory.appendingPathComponent(".tributary/offsets")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.contains { ((try? String(contentsOf: $0, encoding: .utf8)) ?? "").contains("\"snapshot_completed\":true") }
    }

    /// Every change event of the topic as `lsn/op/key` (tombstones left out: they carry no LSN).
    static func events(_ topic: TopicReader, kafka: KafkaConfiguration) async throws -> [String] {
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, marks) in try await topic.watermarks() {
            let tp = TopicPartition(topic.topic, partition)
            XCTAssertEqual(marks.low, 0, "the broker pruned \(tp): the duplicate check would miss events")
            ranges[tp] = marks.low..<marks.high
        }
        return try await KafkaRangeReader.read(configuration: kafka, ranges: ranges).compactMap { message in
            guard let value = message.value else { return nil }
            let payload = try JSON.parse(value)["payload"]
            guard case .int(let lsn)? = payload?["source"]?["lsn"], let op = payload?["op"]?.stringValue else {
                throw E2EFailure("\(message.topicPartition)@\(message.offset) is not a change event with source.lsn")
            }
            return "\(lsn)/\(op)/\(String(decoding: message.key ?? [], as: UTF8.self))"
        }
    }

    private func eventually(_ what: String, within seconds: Double, worker: WorkerProcess, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            try worker.checkAlive()
            guard Date() < deadline else { throw E2EFailure("gave up after \(Int(seconds)) s waiting for \(what); worker log tail:\n\(worker.logTail())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Writers that insert, update and delete rows of `table` (`id`, `v`,
/// `note`) in transactions of one to eight changes, each on its own key
/// range (so they never conflict), for `duration`.
struct ChangeWriters: Sendable {
    let url: String
    let table: String
    var connections: Int
    var duration: Duration

    /// Runs the writers; returns how many changes they committed.
    func run() async throws -> Int {
        let end = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 1...connections { group.addTask { try await self.writer(writer, until: end) } }
            return try await group.reduce(0, +)
        }
    }

    private func writer(_ writer: Int, until end: ContinuousClock.Instant) async throws -> Int {
        let client = PostgresClient(settings: try ConnectionSettings(url: url), name: "e2e-change-writer-\(writer)")
        try await client.connect()
        do {
            let changes = try await write(writer, client: client, until: end)
            await client.close()
            return changes
        } catch {
            await client.close()
            throw error
        }
    }

    private func write(_ writer: Int, client: PostgresClient, until end: ContinuousClock.Instant) async throws -> Int {
        let q = SQL.quote(table)
        // The snapshot's rows 1...200 are shared out too, so the stream updates and deletes rows the snapshot read.
        var live = (1...200).filter { $0 % connections == writer - 1 }.map(Int64.init)
        var next = Int64(writer) * 1_000_000
        var changes = 0
        while ContinuousClock.now < end {
            try await client.query("BEGIN")
            for _ in 0..<Int.random(in: 1...8) {
                let roll = Int.random(in: 0..<10)
                if roll < 5 || live.isEmpty {
                    next += 1
                    try await client.query("INSERT INTO \(q) VALUES ($1, 0, $2)", [String(next), "w\(writer) row \(next)"])
                    live.append(next)
                } else if roll < 8 {
                    let id = live.randomElement()!
                    try await client.query("UPDATE \(q) SET v = v + 1, note = $2 WHERE id = $1", [String(id), "updated \(Int.random(in: 0...999))"])
                } else {
                    let id = live.remove(at: Int.random(in: 0..<live.count))
                    try await client.query("DELETE FROM \(q) WHERE id = $1", [String(id)])
                }
                changes += 1
            }
            try await client.query("COMMIT")
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...25)))
        }
        return changes
    }
}
