import Foundation
import PipelineCore

/// One test's own corner of the shared servers: table, topic, connector
/// names (hence consumer groups `connect-<name>`), MySQL table (named after
/// the topic), S3 `topics.dir` and a working directory for the worker's
/// offset files and log. Runs, and tests within a run, never collide.
struct Scenario: Sendable {
    let id: String
    let table: String
    let topic: String
    let topicsDir: String
    /// The worker's working directory: `.tributary/offsets/` lands here.
    let directory: URL
    /// The three connector files, derived from the seed's.
    let connectorFiles: [URL]
    let sourceName: String
    /// The MySQL sink's connector name (its group is `connect-<name>`).
    let mysqlSinkName: String

    /// The seed's connector configs, as shipped in Examples/connectors.
    static let seedFiles = ["postgres-source.json", "mysql-sink.json", "s3-sink.json"]

    /// `s3Overrides` (`sourceOverrides`) replaces seed values of the S3 sink (the source) (tests that must
    /// say why they differ from the seed).
    init(environment: E2EEnvironment, label: String, s3Overrides: [String: String] = [:], sourceOverrides: [String: String] = [:]) throws {
        // Upper case: Postgres keeps quoted identifiers as written and
        // MariaDB table names are case-sensitive here, like the seed's USERS.
        id = String(UInt64.random(in: 0...UInt64.max) & 0xFF_FFFF_FFFF, radix: 36).uppercased()
        table = "USERS_\(id)"
        topicsDir = "e2e-\(label)-\(id.lowercased())/topics"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-e2e-\(label)-\(id.lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        let folder = environment.repository.appendingPathComponent("Examples/connectors")
        let seeds = try Self.seedFiles.map { try JSON.parse(Array(Data(contentsOf: folder.appendingPathComponent($0)))) }
        // The topic is the source's `topic.prefix` + table, as the source names it.
        guard let prefix = seeds.lazy.compactMap({ $0["config"]?["topic.prefix"]?.stringValue }).first else {
            throw E2EFailure("no seed connector in \(folder.path) has a topic.prefix")
        }
        topic = prefix + table
        var files: [URL] = [], sourceName = "", mysqlSinkName = ""
        for (file, seed) in zip(Self.seedFiles, seeds) {
            let connector = try Self.derive(
                seed, id: id, table: table, topic: topic, topicsDir: topicsDir, s3Overrides: s3Overrides, sourceOverrides: sourceOverrides)
            if connector.isSource { sourceName = connector.name }
            if file == "mysql-sink.json" { mysqlSinkName = connector.name }
            let url = directory.appendingPathComponent(file)
            try Data(connector.json.serialized()).write(to: url)
            files.append(url)
        }
        self.sourceName = sourceName
        self.mysqlSinkName = mysqlSinkName
        connectorFiles = files
    }

    /// A seed connector with only its names changed: the connector name,
    /// the source's table, the sinks' topic and the S3 sink's `topics.dir`.
    /// Every other key and value stays as the seed has it (flush.size 5,
    /// rotate.schedule.interval.ms 6000, insert mode, `${env:…}` references).
    static func derive(
        _ seed: JSON, id: String, table: String, topic: String, topicsDir: String, s3Overrides: [String: String],
        sourceOverrides: [String: String] = [:]
    ) throws -> (json: JSON, name: String, isSource: Bool) {
        guard case .string(let seedName)? = seed["name"], case .object(var config)? = seed["config"],
            let className = seed["config"]?["connector.class"]?.stringValue
        else { throw E2EFailure("a seed connector is not {\"name\": …, \"config\": {…}}: \(seed.text)") }
        let name = "\(seedName)-\(id.lowercased())"
        func set(_ key: String, _ value: String) {
            if let index = config.firstIndex(where: { $0.0 == key }) {
                config[index].1 = .string(value)
            } else {
                config.append((key, .string(value)))
            }
        }
        let isSource = className.hasSuffix("JdbcSourceConnector")
        if isSource {
            set("table.whitelist", table)
            for (key, value) in sourceOverrides.sorted(by: { $0.key < $1.key }) { set(key, value) }
        } else {
            set("topics", topic)
        }
        if className.hasSuffix("S3SinkConnector") {
            set("topics.dir", topicsDir)
            for (key, value) in s3Overrides.sorted(by: { $0.key < $1.key }) { set(key, value) }
        }
        return (.object([("name", .string(name)), ("config", .object(config))]), name, isSource)
    }

    /// Deletes the working directory (kept when a test failed, for its logs).
    func removeDirectory() {
        try? FileManager.default.removeItem(at: directory)
    }
}
