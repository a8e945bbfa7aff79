import Foundation
import PipelineCore
import PostgresSource

extension Scenario {
    /// A CDC pipeline's corner of the shared servers: table `cdc_<id>`,
    /// slot, publication, topic `<prefix>.public.<table>` and two connector
    /// files in the working directory, Debezium's PostgreSQL connector and
    /// the MySQL sink applying its change events (upsert by key, deletes).
    init(cdc environment: E2EEnvironment, label: String) throws {
        id = String(UInt64.random(in: 0...UInt64.max) & 0xFF_FFFF_FFFF, radix: 36)
        table = "cdc_\(id)"
        topic = "e2e_\(id).public.\(table)"
        topicsDir = "e2e-\(label)-\(id)/topics"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-e2e-\(label)-\(id)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        sourceName = "cdc-\(id)"
        mysqlSinkName = "cdc-mysql-\(id)"
        let pg = try ConnectionSettings(url: environment.postgresURL)
        let source: JSON = .object([
            ("name", .string(sourceName)),
            ("config", Self.object([
                ("connector.class", "io.debezium.connector.postgresql.PostgresConnector"),
                ("database.hostname", pg.parameters["host"] ?? "localhost"), ("database.port", pg.parameters["port"] ?? "5432"),
                ("database.user", pg.parameters["user"] ?? ""), ("database.password", pg.password?.value ?? ""),
                ("database.dbname", pg.parameters["dbname"] ?? ""), ("topic.prefix", "e2e_\(id)"),
                ("table.include.list", "public.\(table)"), ("plugin.name", "pgoutput"),
                ("slot.name", "slot_\(id)"), ("publication.name", "pub_\(id)"),
                ("publication.autocreate.mode", "filtered"), ("snapshot.mode", "initial"), ("max.batch.size", "50"),
            ])),
        ])
        let sink: JSON = .object([
            ("name", .string(mysqlSinkName)),
            ("config", Self.object([
                ("connector.class", "io.confluent.connect.jdbc.JdbcSinkConnector"), ("topics", topic),
                ("connection.url", "${env:TRIBUTARY_MYSQL_URL}"), ("table.name.format", table),
                ("insert.mode", "upsert"), ("pk.mode", "record_key"), ("delete.enabled", "true"), ("auto.create", "true"),
                ("consumer.override.session.timeout.ms", "6000"),
            ])),
        ])
        var files: [URL] = []
        for (name, json) in [("cdc-source.json", source), ("mysql-sink.json", sink)] {
            let url = directory.appendingPathComponent(name)
            try Data(json.serialized()).write(to: url)
            files.append(url)
        }
        connectorFiles = files
    }

    private static func object(_ pairs: [(String, String)]) -> JSON { .object(pairs.map { ($0.0, .string($0.1)) }) }

    var slot: String { "slot_\(id)" }
    var publication: String { "pub_\(id)" }
}

extension PostgresClient {
    /// Drops a test's replication slot, also while the stopped (or killed)
    /// source's walsender still holds it: ends that backend, then drops, retrying.
    /// A slot left behind counts against max_replication_slots for every later test.
    func dropSlot(_ slot: String) async {
        for _ in 0..<100 {
            _ = try? await query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot])
            if (try? await query("SELECT pg_drop_replication_slot($1)", [slot])) != nil { return }
            if (try? await query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]))?.isEmpty == true { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
