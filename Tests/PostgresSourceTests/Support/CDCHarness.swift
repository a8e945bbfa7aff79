import Foundation
import PipelineCore
import XCTest

@testable import PostgresSource

/// A CDC source under test against the real Postgres 15 (wal_level=logical)
/// and broker, with its own slot, publication, topic prefix and offset file;
/// ``close()`` drops the slot and the publication.
final class CDCHarness: Sendable {
    let base: SourceHarness
    let slot: String
    let publication: String
    let topicPrefix: String
    /// Sources started here, stopped by ``close()`` if a failed test left them running.
    let running = Locked<[Task<Void, Error>]>([])

    var pg: PostgresClient { base.pg }

    init() throws {
        base = try SourceHarness()
        slot = TestEnvironment.uniqueName("slot").lowercased()
        publication = TestEnvironment.uniqueName("pub")
        topicPrefix = TestEnvironment.uniqueName("cdc")
    }

    /// Debezium properties for `tables` (a filtered publication), plus `extra`.
    func properties(_ tables: [String], _ extra: [String: String] = [:]) throws -> [String: String] {
        let settings = try ConnectionSettings(url: try TestEnvironment.postgresURL())
        var properties = [
            "name": "test-cdc", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": settings.parameters["host"]!, "database.port": settings.parameters["port"] ?? "5432",
            "database.user": settings.parameters["user"]!, "database.password": settings.password?.value ?? "",
            "database.dbname": settings.parameters["dbname"]!, "topic.prefix": topicPrefix, "plugin.name": "pgoutput",
            "slot.name": slot, "publication.name": publication, "publication.autocreate.mode": "filtered",
            "table.include.list": tables.map { "public.\($0)" }.joined(separator: ","), "offset.storage.file.filename": base.offsetPath,
        ]
        properties.merge(extra) { _, new in new }
        return properties
    }

    func source(_ tables: [String], _ extra: [String: String] = [:]) throws -> PostgresCDCSource {
        try PostgresCDCSource(properties: try properties(tables, extra), producer: base.producer)
    }

    /// Runs `source` in a task; a failure is recorded for ``eventually(_:within:_:)``.
    func start(_ source: PostgresCDCSource) -> Task<Void, Error> {
        let failure = base.failure
        let task = Task {
            do {
                try await source.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
        running.withLock { $0.append(task) }
        return task
    }

    func stop(_ task: Task<Void, Error>) async throws { try await base.stop(task) }

    func eventually(_ what: String, within seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () async throws -> Bool) async throws {
        try await base.eventually(what, within: seconds, file: file, line: line, condition)
    }

    func topic(_ table: String) -> String { "\(topicPrefix).public.\(table)" }

    /// Creates a table of a unique name starting with `prefix`, of `columns` (SQL); returns its name.
    func createTable(_ prefix: String, _ columns: String) async throws -> String {
        let table = TestEnvironment.uniqueName(prefix)
        try await pg.query("CREATE TABLE \(SQL.quote(table)) (\(columns))")
        return table
    }

    /// Every message of `table`'s topic (at least `count`), decoded; tombstones have a nil value.
    func events(_ table: String, count: Int) async throws -> [Record] {
        let converter = JsonConverter(schemasEnabled: true)
        return try await base.consumeMessages(topic(table), count: count).map {
            try Record(decoding: $0, keyConverter: converter, valueConverter: converter)
        }
    }

    /// Records in `table`'s topic, from its watermarks (no consumer group to join).
    func recordCount(_ table: String) async throws -> Int {
        let admin = try KafkaAdmin(configuration: base.kafka)
        var total = 0
        for partition in try await admin.topics().first(where: { $0.name == topic(table) })?.partitions ?? [] {
            let marks = try await admin.watermarks(TopicPartition(topic(table), partition.partition))
            total += Int(marks.high - marks.low)
        }
        return total
    }

    /// The slot's confirmed_flush_lsn.
    func confirmedFlush() async throws -> LSN? {
        try await pg.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).first?[0].flatMap(LSN.init)
    }

    /// The position the source stored.
    func storedPosition() async throws -> CDCPosition? {
        try await FileOffsetStore(path: base.offsetPath).all()["test-cdc/cdc"].flatMap(CDCPosition.init(json:))
    }

    func close() async {
        for task in running.value {
            task.cancel()
            _ = try? await task.value
        }
        await CDCHarness.dropSlot(slot, pg)
        _ = try? await pg.query("DROP PUBLICATION IF EXISTS \(SQL.quote(publication))")
        await base.close()
    }

    /// Drops `slot`: a stopped source's walsender may still hold it for a moment
    /// (dropping an active slot fails), so it is ended and the drop tried again.
    /// A slot left behind would count against max_replication_slots for every later test.
    static func dropSlot(_ slot: String, _ pg: PostgresClient) async {
        for _ in 0..<100 {
            _ = try? await pg.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot])
            let left = try? await pg.query("SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1", [slot])
            if left?.isEmpty == true { return }
            if (try? await pg.query("SELECT pg_drop_replication_slot($1)", [slot])) != nil { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension Record {
    /// The change event's `op`, nil for a tombstone.
    var op: String? {
        if case .string(let op)? = value?.value[field: "op"] { return op }
        return nil
    }

    /// A field of the event's `after` (or, with `before`, of its `before`).
    func row(_ field: String, before: Bool = false) -> Value? {
        value?.value[field: before ? "before" : "after"]?[field: field]
    }

    /// The key struct's `id` field.
    var keyID: Int64? {
        if case .int(let v)? = key?.value[field: "id"] { return v }
        return nil
    }
}
