import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import XCTest

/// Postgres → PostgresCDCSource → Kafka → MySQLSink, in process, against the
/// real servers: a snapshot, then inserts, updates (TOASTed column left
/// alone), key changes and deletes while both run; MySQL ends equal to Postgres.
final class CDCPipelineTests: XCTestCase {
    func env(_ name: String) throws -> String {
        guard let value = ProcessEnvironment.get(name), !value.isEmpty else { throw E2EFailure("\(name) is not set; source scripts/services.sh's env") }
        return value
    }

    func testMySQLEndsEqualToPostgresThroughChangeEvents() async throws {
        let suffix = String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF, radix: 36)
        let table = "cdc_e2e_\(suffix)", slot = "slot_e2e_\(suffix)", publication = "pub_e2e_\(suffix)", prefix = "e2e_\(suffix)"
        let pgSettings = try ConnectionSettings(url: try env("TRIBUTARY_PG_URL"))
        let pg = PostgresClient(settings: pgSettings, name: "e2e")
        let kafka = KafkaConfiguration(bootstrapServers: try env("TRIBUTARY_BOOTSTRAP"))
        let mysql = MySQLConnection(options: try MySQLConnectionOptions(url: try env("TRIBUTARY_MYSQL_URL")))
        let q = SQL.quote(table)
        let producer = try KafkaProducer(configuration: kafka)
        let running = Locked<[Task<Void, Error>]>([])
        // Also when the test fails: a slot left behind counts against max_replication_slots for every later test.
        addTeardownBlock {
            for task in running.value {
                task.cancel()
                _ = try? await task.value
            }
            _ = try? await mysql.execute("DROP TABLE IF EXISTS `\(table)`")
            await pg.dropSlot(slot)
            _ = try? await pg.query("DROP PUBLICATION IF EXISTS \(SQL.quote(publication))")
            _ = try? await pg.query("DROP TABLE IF EXISTS \(q)")
            await mysql.close()
            await producer.close()
            await pg.close()
        }
        try await pg.query("CREATE TABLE \(q) (id int PRIMARY KEY, name text NOT NULL, doc text, amount numeric(10,2))")
        // Row 1..20 get a document big enough to be TOASTed out of line.
        try await pg.query(
            """
            INSERT INTO \(q) SELECT g, 'name ' || g, CASE WHEN g <= 20 THEN (SELECT string_agg(md5((g * 10000 + i)::text), '') FROM generate_series(1, 300) i) ELSE 'small ' || g END, g * 1.25
            FROM generate_series(1, 300) g
            """)

        let offsets = NSTemporaryDirectory() + "cdc-e2e-\(suffix)/offsets.json"
        let source = try PostgresCDCSource(properties: [
            "name": "cdc-e2e", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": pgSettings.parameters["host"]!, "database.port": pgSettings.parameters["port"] ?? "5432",
            "database.user": pgSettings.parameters["user"]!, "database.password": pgSettings.password?.value ?? "",
            "database.dbname": pgSettings.parameters["dbname"]!, "topic.prefix": prefix, "slot.name": slot,
            "publication.name": publication, "publication.autocreate.mode": "filtered", "table.include.list": "public.\(table)",
            "offset.storage.file.filename": offsets,
        ], producer: producer)
        let topic = source.topic(schema: "public", table: table)
        let failure = Locked<String?>(nil)
        let sourceRun = Task {
            do { try await source.run() } catch { failure.withLock { $0 = "source: \(error)" }; throw error }
        }
        running.withLock { $0.append(sourceRun) }
        try await eventually("the snapshot", within: 60) {
            if let failure = failure.value { throw E2EFailure(failure) }
            return source.throughput.total >= 300
        }

        let sink = try MySQLSink(properties: [
            "name": "cdc-e2e-\(suffix)", "topics": topic, "connection.url": try env("TRIBUTARY_MYSQL_URL"), "table.name.format": table,
            "insert.mode": "upsert", "pk.mode": "record_key", "delete.enabled": "true", "auto.create": "true", "auto.evolve": "true",
            "consumer.override.session.timeout.ms": "6000",
        ], kafka: kafka)
        let sinkRun = Task {
            do { try await sink.run() } catch { failure.withLock { $0 = "sink: \(error)" }; throw error }
        }
        running.withLock { $0.append(sinkRun) }

        for i in 1...40 {
            try await pg.query("UPDATE \(q) SET name = 'renamed ' || id WHERE id = $1", [String(i)])  // doc unchanged: TOAST for 1..20
        }
        try await pg.query("DELETE FROM \(q) WHERE id BETWEEN 100 AND 149")
        try await pg.query("UPDATE \(q) SET id = id + 1000 WHERE id BETWEEN 200 AND 209")  // key changes
        try await pg.query("INSERT INTO \(q) SELECT g, 'late ' || g, 'doc', 0.5 FROM generate_series(301, 350) g")
        try await pg.query("UPDATE \(q) SET amount = amount + 1, doc = NULL WHERE id BETWEEN 21 AND 25")

        // ORDER BY t.id: a bare `id` would sort by the text output column of that name.
        let expected = try await pg.query("SELECT t.id::text, t.name, md5(t.doc), t.amount::text FROM \(q) t ORDER BY t.id")
        do {
            try await waitForEqual(expected)
        } catch {
            let actual = (try? await mysql.query("SELECT CAST(`id` AS CHAR), `name`, MD5(`doc`), CAST(`amount` AS CHAR) FROM `\(table)` ORDER BY `id`")) ?? []
            let missing = expected.filter { !actual.contains($0) }, extra = actual.filter { !expected.contains($0) }
            XCTFail("MySQL differs: \(actual.count) rows, \(expected.count) expected; missing \(missing.prefix(5)); unexpected \(extra.prefix(5))")
            throw error
        }
        func waitForEqual(_ expected: [[String?]]) async throws {
        try await eventually("MySQL equal to Postgres", within: 60) {
            if let failure = failure.value { throw E2EFailure(failure) }
            let exists = try await mysql.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(table)])
            guard exists.first?.first == "1" else { return false }
            let actual = try await mysql.query("SELECT CAST(`id` AS CHAR), `name`, MD5(`doc`), CAST(`amount` AS CHAR) FROM `\(table)` ORDER BY `id`")
            return actual == expected
        }
        }
        sinkRun.cancel()
        try await sinkRun.value
        sourceRun.cancel()
        try await sourceRun.value
        XCTAssertEqual(expected.count, 300 - 50 + 50)

    }
}
