import ConnectWorker
import Foundation
import Logging
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// `tributary demo --cdc`: the seed's job with Debezium's PostgreSQL
/// connector in place of the JDBC source. Half the users are written before
/// the pipeline starts (the snapshot reads them, op `r`), half while it runs
/// (inserts, `c`), then a tenth of all rows is updated (`u`) and every
/// twentieth deleted (`d`). The MySQL sink upserts and
/// deletes by key; S3 keeps every event. Done when MySQL equals Postgres
/// row for row and the S3 sink has committed every record of the topic.
struct CDCDemo {
    let rows: Int64
    let rate: Double?
    let specs: DemoSpecs
    let env: DemoEnvironment
    let kafka: KafkaConfiguration
    let timeout: Double

    /// Names of the demo's own slot, publication, topic prefix and MySQL table.
    static let slot = "tributary_demo", publication = "tributary_demo", prefix = "cdc"
    static let offsetFile = ".tributary/demo/cdc-offsets.json"

    var table: String { specs.table }
    var topic: String { "\(Self.prefix).public.\(table)" }
    var mysqlTable: String { "\(table)_cdc" }

    /// The seed's sinks pointed at the CDC topic, and the CDC source for the seed's table.
    func connectorSpecs() throws -> [ConnectorSpec] {
        let pg = try ConnectionSettings(url: env.postgresURL)
        let source = ConnectorSpec(name: "cdc-source-users", properties: [
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": pg.parameters["host"] ?? "localhost", "database.port": pg.parameters["port"] ?? "5432",
            "database.user": pg.parameters["user"] ?? "", "database.password": pg.password?.value ?? "",
            "database.dbname": pg.parameters["dbname"] ?? "", "topic.prefix": Self.prefix,
            "table.include.list": "public.\(table)", "plugin.name": "pgoutput", "slot.name": Self.slot,
            "publication.name": Self.publication, "publication.autocreate.mode": "filtered", "snapshot.mode": "initial",
            "offset.storage.file.filename": Self.offsetFile,
            // The sinks apply the 'd' events themselves; a tombstone matters only to log compaction.
            "tombstones.on.delete": "false",
        ])
        // Names of their own (so consumer groups of their own): the JDBC demo's sinks keep theirs.
        var mysql = specs.mysql
        mysql.name += "-cdc"
        mysql.properties.merge([
            "name": mysql.name, "topics": topic, "table.name.format": mysqlTable, "insert.mode": "upsert", "pk.mode": "record_key",
            "delete.enabled": "true", "auto.evolve": "true",
        ]) { $1 }
        var s3 = specs.s3
        s3.name += "-cdc"
        s3.properties.merge(["name": s3.name, "topics": topic, "behavior.on.null.values": "ignore"]) { $1 }
        return [source, mysql, s3]
    }

    func run() async throws {
        let postgres = try env.postgres()
        try await postgres.connect()
        let mysql = try env.mysql()
        try await mysql.connect()
        let s3 = try env.s3()
        let connectors = try connectorSpecs()
        let counter = DemoCounter(
            postgres: postgres, mysql: mysql, s3: s3, admin: try KafkaAdmin(configuration: kafka),
            table: table, topic: topic, bucket: env.s3Bucket)
        let s3Waiter = DemoWaiter(counter: counter, kafka: kafka, s3GroupID: ConnectorSpec.sinkGroupID(connector: connectors[2].name), expected: 0)
        say("Tributary CDC demo: \(rows) users, \(table) → Debezium change events on \(topic) → MySQL \(mysqlTable) + S3 (s3://\(env.s3Bucket)/topics/\(topic)/)")
        try await reset(postgres: postgres, mysql: mysql, s3: s3, sinkGroup: ConnectorSpec.sinkGroupID(connector: connectors[1].name))

        let writer = TableWriter(client: postgres, table: usersTable(TableName(table), seed: UserGeneratorSeed.demo))
        try await writer.createTableIfMissing()
        let before = rows / 2
        _ = try await writer.generate(GenerateOptions(rows: before, seed: UserGeneratorSeed.demo))
        say("  \(before) users written before the pipeline starts (the snapshot reads them)")

        let pipeline = try DemoPipeline(connectors, kafka: kafka, offsetFile: Self.offsetFile)
        let started = Date()
        let (streamed, deleted, writtenAt, landed) = try await pipeline.stop {
            try await waitUntilStreaming(deadline: started.addingTimeInterval(timeout), failure: pipeline.failure)
            say("  the snapshot is stored; streaming (after \(seconds(Date().timeIntervalSince(started))))")
            let streamed = try await writer.generate(
                GenerateOptions(rows: rows - before, rowsPerSecond: rate, updateFraction: 0.1, seed: UserGeneratorSeed.demo))
            let deleted = try await postgres.query("DELETE FROM \(SQL.quote(table)) WHERE \(SQL.quote("index")) % 20 = 0 RETURNING 1").count
            let writtenAt = Date()
            say("  then: \(streamed.inserted) inserts, \(streamed.updated) updates, \(deleted) deletes")
            let landed = try await waitUntilEqual(
                postgres: postgres, mysql: mysql, counter: counter, s3: s3Waiter, deadline: started.addingTimeInterval(timeout),
                failure: pipeline.failure)
            return (streamed, deleted, writtenAt, landed)
        }

        let pgRows = try await self.pgRows(postgres)
        let mysqlRows = try await self.mysqlRows(mysql)
        let ops = try await s3Operations(s3)
        let equal = pgRows == mysqlRows
        say("")
        say("Summary")
        say("  Postgres  \(pgRows.count) rows now (\(rows) inserted, \(streamed.updated) updated, \(deleted) deleted)")
        say("  Kafka     \(try await counter.kafkaMessages()) records on \(topic) (change events)")
        say("  MySQL     \(mysqlRows.count) rows, equal to Postgres row for row  \(equal ? "✓" : "✗")")
        say("  S3        \(ops.values.reduce(0, +)) change events: " + ["r", "c", "u", "d", "t"].compactMap { op in ops[op].map { "\($0) \(op)" } }.joined(separator: ", "))
        say("  latency after the last write: MySQL \(seconds(landed.mysql.timeIntervalSince(writtenAt))), S3 \(seconds(landed.s3.timeIntervalSince(writtenAt)))")
        await postgres.close()
        await mysql.close()
        s3.shutdown()
        guard equal else { throw PipelineError.other("demo --cdc: MySQL differs from Postgres (see the summary)") }
    }

    /// Drops what an earlier CDC demo left (local servers only): the table,
    /// slot, publication, MySQL table and offsets, S3 objects, offset file.
    func reset(postgres: PostgresClient, mysql: MySQLConnection, s3: S3Client, sinkGroup: String) async throws {
        guard env.allLocal else { throw PipelineError.other("demo --cdc resets its tables, slot and objects, which it does only on local servers") }
        _ = try await postgres.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [Self.slot])
        for _ in 0..<50 {
            if try await postgres.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [Self.slot]).isEmpty { break }
            // The terminated walsender may hold the slot a moment longer.
            if (try? await postgres.query("SELECT pg_drop_replication_slot($1)", [Self.slot])) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if try await !postgres.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [Self.publication]).isEmpty {
            _ = try await postgres.query("DROP PUBLICATION \(SQL.quote(Self.publication))")
        }
        _ = try await postgres.query("DROP TABLE IF EXISTS \(SQL.quote(table))")
        _ = try await mysql.execute("DROP TABLE IF EXISTS `\(mysqlTable)`")
        _ = try? await mysql.execute("DELETE FROM `__tributary_offsets` WHERE `group_id` = ?", [.text(sinkGroup)])
        for object in try await s3.listAllObjects(bucket: env.s3Bucket, prefix: "topics/\(topic)/").objects {
            try await s3.deleteObject(bucket: env.s3Bucket, key: object.key)
        }
        try? FileManager.default.removeItem(atPath: Self.offsetFile)
    }

    /// Waits until the source stored its snapshot as complete: what is written next is streamed from the WAL.
    func waitUntilStreaming(deadline: Date, failure: Locked<String?>) async throws {
        while !((try? String(contentsOfFile: Self.offsetFile, encoding: .utf8)) ?? "").contains("\"snapshot_completed\":true") {
            if let failure = failure.value { throw PipelineError.other("demo --cdc: the pipeline stopped: \(failure)") }
            guard Date() < deadline else { throw PipelineError.other("demo --cdc: timed out waiting for the snapshot") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Waits until MySQL equals Postgres and the S3 sink committed every record of the topic.
    func waitUntilEqual(postgres: PostgresClient, mysql: MySQLConnection, counter: DemoCounter, s3: DemoWaiter,
                        deadline: Date, failure: Locked<String?>) async throws -> (mysql: Date, s3: Date) {
        var mysqlAt: Date?, s3At: Date?
        var lastShown = Date.distantPast
        while mysqlAt == nil || s3At == nil {
            if let failure = failure.value { throw PipelineError.other("demo --cdc: the pipeline stopped: \(failure)") }
            guard Date() < deadline else { throw PipelineError.other("demo --cdc: timed out; MySQL \(mysqlAt == nil ? "differs from Postgres" : "equal"), S3 \(s3At == nil ? "incomplete" : "complete")") }
            let expected = try await pgRows(postgres)
            let actual = try await mysqlRows(mysql)
            if mysqlAt == nil && actual == expected { mysqlAt = Date() }
            let records = try await counter.kafkaMessages()
            let committed = try await s3.s3Committed()
            // Equal MySQL means the source sent everything; S3 then has committed all of it.
            if mysqlAt != nil && s3At == nil && records > 0 && committed >= records { s3At = Date() }
            if Date().timeIntervalSince(lastShown) > 2 {
                say("  waiting: MySQL \(actual.count)/\(expected.count) rows\(actual == expected ? " (equal)" : ""), S3 \(committed)/\(records) records committed")
                lastShown = Date()
            }
            if mysqlAt == nil || s3At == nil { try await Task.sleep(for: .milliseconds(500)) }
        }
        return (mysqlAt!, s3At!)
    }

    /// Every row as key, email, job and city (what the updates change).
    func pgRows(_ postgres: PostgresClient) async throws -> [[String?]] {
        try await postgres.query("SELECT t.\"index\"::text, t.email, t.job, t.city FROM \(SQL.quote(table)) t ORDER BY t.\"index\"")
    }

    func mysqlRows(_ mysql: MySQLConnection) async throws -> [[String?]] {
        let exists = try await mysql.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(mysqlTable)])
        guard (exists.first?.first ?? nil) == "1" else { return [] }
        return try await mysql.query("SELECT CAST(`index` AS CHAR), `email`, `job`, `city` FROM `\(mysqlTable)` ORDER BY `index`")
    }

    /// Change events in S3 by `op`.
    func s3Operations(_ s3: S3Client) async throws -> [String: Int] {
        var ops: [String: Int] = [:]
        for object in try await s3.listAllObjects(bucket: env.s3Bucket, prefix: "topics/\(topic)/").objects {
            let body = try await s3.getObject(bucket: env.s3Bucket, key: object.key)
            for line in body.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                ops[(try? JSON.parse(line))?["op"]?.stringValue ?? "?", default: 0] += 1
            }
        }
        return ops
    }
}
