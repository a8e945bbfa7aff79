import Foundation
import PipelineCore
import PostgresSource

/// The seed's three connector configs, as the demo runs them.
struct DemoSpecs: Sendable {
    var source: ConnectorSpec
    var mysql: ConnectorSpec
    var s3: ConnectorSpec

    var all: [ConnectorSpec] { [source, mysql, s3] }
    /// The one table the source copies (`table.whitelist`).
    var table: String { source.properties["table.whitelist"]?.split(separator: ",").first.map(String.init) ?? "USERS" }
    var topic: String { (source.properties["topic.prefix"] ?? "") + table }

    static let offsetFile = ".tributary/demo/source-offsets.json"

    static func load(directory: String) throws -> DemoSpecs {
        func spec(_ file: String) throws -> ConnectorSpec {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PipelineError.config(key: "--connectors", reason: "\(path) not found; run the demo from the repository root or pass --connectors DIR")
            }
            return try ConnectorSpec.parse(Array(data), fallbackName: (file as NSString).deletingPathExtension)
        }
        return DemoSpecs(source: try spec("postgres-source.json"), mysql: try spec("mysql-sink.json"), s3: try spec("s3-sink.json"))
    }
}

/// Clears what an earlier demo left, only on local servers.
struct DemoReset: Sendable {
    let env: DemoEnvironment
    let counter: DemoCounter
    let specs: DemoSpecs

    func run() async throws {
        let existing = (try? await counter.postgresRows()) ?? 0
        let leftovers = try await counter.s3.listAllObjects(bucket: env.s3Bucket, prefix: counter.s3Prefix).objects
        let mysqlRows = try await counter.mysqlRows().rows
        guard existing > 0 || !leftovers.isEmpty || mysqlRows > 0 || FileManager.default.fileExists(atPath: DemoSpecs.offsetFile) else { return }
        guard env.allLocal else {
            throw PipelineError.other("demo: \(counter.table) or its copies already hold data on non-local servers; refusing to reset them")
        }
        say("resetting the previous demo's data (local servers only)…")
        _ = try await counter.postgres.query("DROP TABLE IF EXISTS \(SQL.quote(counter.table))")
        let quoted = "`" + counter.topic.replacingOccurrences(of: "`", with: "``") + "`"
        _ = try await counter.mysql.execute("DROP TABLE IF EXISTS \(quoted)")
        // Only this connector's stored offsets; other connectors' rows stay.
        _ = try? await counter.mysql.execute(
            "DELETE FROM `__tributary_offsets` WHERE `group_id` = ?", [.text(ConnectorSpec.sinkGroupID(connector: specs.mysql.name))])
        for object in leftovers { try await counter.s3.deleteObject(bucket: env.s3Bucket, key: object.key) }
        try? FileManager.default.removeItem(atPath: DemoSpecs.offsetFile)
    }
}
