import Foundation
import PipelineCore
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary connect` as an operator runs it: the seed's three connector
/// bodies PUT with the seed's own curl command line, rows flowing from
/// Postgres into MySQL and S3, then the worker killed with SIGKILL
/// mid-stream and started again: the same connectors in the same states,
/// and every row exactly once in MySQL and S3. Standalone (state in files)
/// and distributed (state in Connect's internal topics).
final class ConnectCommandTests: XCTestCase {
    static let rows = 1_600

    func testSeedCurlCommandsThenSIGKILLAndRestart() async throws {
        try await seedCurlCommandsThenSIGKILLAndRestart(label: "connect", rows: Self.rows, distributed: false)
    }

    /// The same with `group.id` and the three storage topics in the worker
    /// file: the restarted worker rebuilds everything from the topics
    /// (no state file is written), which hold Connect's record formats.
    func testDistributedSeedCurlCommandsThenSIGKILLAndRestart() async throws {
        try await seedCurlCommandsThenSIGKILLAndRestart(label: "connect-dist", rows: 600, distributed: true)
    }

    private func seedCurlCommandsThenSIGKILLAndRestart(label: String, rows: Int, distributed: Bool) async throws {
        let run = try await PipelineRun(label: label)
        run.writers.spread = .seconds(distributed ? 4 : 8)
        var passed = false
        defer { run.worker.killIfRunning() }
        do {
            let workerFile = distributed ? try await Self.distributedWorkerFile(run) : nil
            try run.worker.start(connect: true, workerFile: workerFile)
            var base = try await run.worker.restBase()
            let names = try await Self.putSeedConnectors(run, base: base)
            let s3Sink = names.first { $0.hasPrefix("s3-sink") }!
            try await checkLiteralPasswordIsNeverLogged(base: base, run: run)
            let writing = run.writers.start(rows: rows)
            try await run.eventually("MySQL to get rows", within: 120, every: .milliseconds(200), status: run.progress) {
                try await run.mysql.count() > 0
            }
            // Killed only once the source stored an offset: rows of a first
            // cycle cut short before any offset is stored are sent again by
            // the source after a crash, whatever keeps its offsets.
            let source = try XCTUnwrap(names.first { $0.hasPrefix("jdbc-source") })
            try await run.eventually("the source to store an offset", within: 60, every: .milliseconds(100)) {
                let offsets = try await Self.curl(["\(base)/connectors/\(source)/offsets"])
                guard case .array(let entries)? = try JSON.parse(offsets.text)["offsets"] else { return false }
                return !entries.isEmpty
            }
            // A paused connector must come back paused.
            let paused = try await Self.curl(["-X", "PUT", "\(base)/connectors/\(s3Sink)/pause"])
            XCTAssertEqual(paused.status, 202)
            let ending = try await run.worker.stop(SIGKILL)
            XCTAssertEqual(ending, .signalled(SIGKILL))
            print("killed at: \(await run.progress())")

            try run.worker.start(connect: true, workerFile: workerFile)
            base = try await run.worker.restBase()
            let listed = try await Self.curl(["\(base)/connectors"])
            XCTAssertEqual(Set(try Self.names(listed.text)), Set(names), listed.text)
            for name in names {
                let state = try await Self.curl(["\(base)/connectors/\(name)/status"])
                let expected = name == s3Sink ? "PAUSED" : "RUNNING"
                XCTAssertEqual(try JSON.parse(state.text)["connector"]?["state"]?.stringValue, expected, "\(name) after the restart: \(state.text)")
                XCTAssertFalse(state.text.contains("secret-probe"))
            }
            let resumed = try await Self.curl(["-X", "PUT", "\(base)/connectors/\(s3Sink)/resume"])
            XCTAssertEqual(resumed.status, 202)
            // A second worker of the group while this one runs: refused, while the rows flow.
            let second = workerFile.map { file in Task { try await Self.secondWorkerIsRefused(run, workerFile: file) } }
            _ = try await writing.value
            try await run.waitUntilDelivered(rows: rows)
            try await second?.value
            try await run.stopGracefully()
            try await run.assertExactlyOnce(rows: rows)
            if distributed {
                try await Self.checkConnectFormats(run, names: names, paused: s3Sink)
                let stateFiles = run.scenario.directory.appendingPathComponent(".tributary/connect")
                XCTAssertFalse(FileManager.default.fileExists(atPath: stateFiles.path), "distributed mode wrote state files")
            }
            passed = testRun?.totalFailureCount == 0
        } catch {
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
    }

    /// A distributed worker file with topics of this run's own; the config
    /// topic is created first with its one partition (the broker here has no
    /// CreateTopics API: auto-creation would give it four, which the worker
    /// refuses), the others too (sparing the worker the CreateTopics wait).
    /// A short session (the broker's 3 s first join must fit in it): the
    /// restarted worker waits for the killed one's to expire.
    static func distributedWorkerFile(_ run: PipelineRun) async throws -> URL {
        let id = run.scenario.id.lowercased()
        for (topic, partitions) in [("connect-configs-\(id)", 1), ("connect-offsets-\(id)", 4), ("connect-status-\(id)", 2)] {
            try await TopicReader(environment: run.environment, topic: topic).create(partitions: partitions, control: run.environment.brokerControl)
        }
        let file = run.scenario.directory.appendingPathComponent("worker.properties")
        try Data(
            """
            group.id=connect-\(id)
            config.storage.topic=connect-configs-\(id)
            offset.storage.topic=connect-offsets-\(id)
            status.storage.topic=connect-status-\(id)
            session.timeout.ms=5000
            heartbeat.interval.ms=500

            """.utf8
        ).write(to: file)
        return file
    }

    /// A second `tributary connect` on the same group and topics exits
    /// non-zero naming `group.id`, without ever serving (or running a connector).
    static func secondWorkerIsRefused(_ run: PipelineRun, workerFile: URL) async throws {
        let second = WorkerProcess(scenario: run.scenario, environment: run.environment, logName: "second-worker.log")
        defer { second.killIfRunning() }
        try second.start(connect: true, workerFile: workerFile)
        let deadline = Date().addingTimeInterval(60)
        while second.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        XCTAssertFalse(second.isRunning, "the second worker still runs after 60 s")
        let log = second.log()
        XCTAssertTrue(log.contains("group.id") && log.contains("another worker of group"), log)
        XCTAssertFalse(log.contains("REST API listening"), log)
    }

    /// The config topic as Connect's KafkaConfigBackingStore writes it (last
    /// record per key): each connector's `{"properties":…}`, the paused one's
    /// target state with `state.v2`; the offset topic keyed `["NAME",{"table":…}]`.
    static func checkConnectFormats(_ run: PipelineRun, names: [String], paused: String) async throws {
        let id = run.scenario.id.lowercased()
        let configs = try await latestRecords(run, topic: "connect-configs-\(id)")
        for name in names {
            let config = try XCTUnwrap(configs["connector-\(name)"] ?? nil, "no connector-\(name) record")
            XCTAssertEqual(try JSON.parse(config)["properties"]?["name"]?.stringValue, name)
            XCTAssertEqual(configs["commit-\(name)"] ?? nil, #"{"tasks":1}"#)
        }
        // Paused, killed, restarted, resumed: the last target state is STARTED again.
        XCTAssertEqual(configs["target-state-\(paused)"] ?? nil, #"{"state":"STARTED"}"#)
        // Statuses as KafkaStatusBackingStore writes them; a deleted connector's are tombstones.
        let statuses = try await latestRecords(run, topic: "connect-status-\(id)")
        for name in names {
            for key in ["status-connector-\(name)", "status-task-\(name)-0"] {
                let status = try JSON.parse(try XCTUnwrap(statuses[key] ?? nil, "no \(key) record"))
                XCTAssertEqual(status["state"]?.stringValue, "RUNNING", "\(key): \(status.text)")
                XCTAssertEqual(status["worker_id"]?.stringValue?.hasPrefix("127.0.0.1:"), true, "\(key): \(status.text)")
            }
        }
        let probe = try XCTUnwrap(statuses.keys.first { $0.hasPrefix("status-connector-secret-probe") }, "no status of the deleted probe")
        XCTAssertEqual(statuses[probe], .some(nil), "the deleted probe's status is not a tombstone")
        let offsets = try await latestRecords(run, topic: "connect-offsets-\(id)")
        let source = try XCTUnwrap(names.first { $0.hasPrefix("jdbc-source") })
        let key = #"["\#(source)",{"table":"public.\#(run.scenario.table)"}]"#
        XCTAssertNotNil(offsets[key] ?? nil, "no offset under \(key); keys: \(offsets.keys.sorted())")
    }

    /// The last value of every key in `topic`, as text (nil for a tombstone).
    static func latestRecords(_ run: PipelineRun, topic: String) async throws -> [String: String?] {
        let kafka = KafkaConfiguration(bootstrapServers: run.environment.bootstrapServers)
        let admin = try KafkaAdmin(configuration: kafka)
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for partition in try await admin.topics().first(where: { $0.name == topic })?.partitions ?? [] {
            let tp = TopicPartition(topic, partition.partition)
            let marks = try await admin.watermarks(tp)
            ranges[tp] = marks.low..<marks.high
        }
        var latest: [String: String?] = [:]
        for message in try await KafkaRangeReader.read(configuration: kafka, ranges: ranges).sorted(by: { $0.offset < $1.offset }) {
            // updateValue: assigning nil through the subscript would drop a tombstone's key.
            latest.updateValue(message.value.map { String(decoding: $0, as: UTF8.self) }, forKey: String(decoding: message.key ?? [], as: UTF8.self))
        }
        return latest
    }

    /// A password given literally is returned by GET config, as Connect
    /// returns configs as given, but appears in no log line and no status.
    private func checkLiteralPasswordIsNeverLogged(base: String, run: PipelineRun) async throws {
        let password = "literal-pw-\(run.scenario.id)"
        let name = "secret-probe-\(run.scenario.id.lowercased())"
        let body = run.scenario.directory.appendingPathComponent("secret-probe.json")
        try Data(#"{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","topics":"NO_DATA_\#(run.scenario.id)","connection.url":"${env:TRIBUTARY_MYSQL_URL}","connection.user":"nobody","connection.password":"\#(password)"}"#.utf8).write(to: body)
        let created = try await Self.curl(["-X", "PUT", "-H", "Content-Type: application/json", "\(base)/connectors/\(name)/config", "-d", "@\(body.path)"])
        XCTAssertEqual(created.status, 201, created.text)
        let config = try await Self.curl(["\(base)/connectors/\(name)/config"])
        XCTAssertTrue(config.text.contains(password), "GET config returns the config as given: \(config.text)")
        // Let it try to connect (and fail) with that password before looking at the log.
        try await run.eventually("the probe to try MySQL", within: 30, every: .milliseconds(200)) {
            run.worker.log().contains(name)
        }
        try await Task.sleep(for: .seconds(1))
        let status = try await Self.curl(["\(base)/connectors/\(name)/status"])
        XCTAssertFalse(status.text.contains(password), status.text)
        let deleted = try await Self.curl(["-X", "DELETE", "\(base)/connectors/\(name)"])
        XCTAssertEqual(deleted.status, 204, deleted.text)
        XCTAssertFalse(run.worker.log().contains(password), "the literal password is in the worker log")
    }

    /// Connector files on the command line are created at start, next to
    /// the stored ones; SIGTERM stops them gracefully and exits 0.
    func testConnectorFilesGivenAtStartAreCreatedAndSIGTERMExitsZero() async throws {
        let run = try await PipelineRun(label: "connect-files")
        defer { run.worker.killIfRunning() }
        let mysqlFile = run.scenario.connectorFiles.first { $0.lastPathComponent == "mysql-sink.json" }!
        try run.worker.start(connect: true, connectFiles: [mysqlFile])
        let base = try await run.worker.restBase()
        try await run.eventually("the file's connector to be created", within: 30, every: .milliseconds(100)) {
            let status = try await Self.curl(["\(base)/connectors/\(run.scenario.mysqlSinkName)/status"])
            return status.status == 200 && status.text.contains(#""state":"RUNNING""#)
        }
        let listed = try await Self.curl(["\(base)/connectors"])
        XCTAssertEqual(try Self.names(listed.text), [run.scenario.mysqlSinkName])
        try await run.stopGracefully()
        XCTAssertTrue(run.worker.log().contains("stopping every connector gracefully"), run.worker.logTail())
        await run.finish(passed: testRun?.totalFailureCount == 0)
    }

    /// The seed's command, once per connector file: `curl -X PUT …/connectors/NAME/config`
    /// with its config; only names (and, through ${env:…}, hosts and credentials)
    /// differ. Each must answer 201; returns the names.
    static func putSeedConnectors(_ run: PipelineRun, base: String) async throws -> [String] {
        var names: [String] = []
        for file in run.scenario.connectorFiles {
            let connector = try JSON.parse(Array(Data(contentsOf: file)))
            let name = connector["name"]!.stringValue!
            let body = run.scenario.directory.appendingPathComponent("\(name).config.json")
            try Data(connector["config"]!.serialized()).write(to: body)
            let reply = try await curl([
                "-X", "PUT", "-H", "Content-Type: application/json", "\(base)/connectors/\(name)/config", "-d", "@\(body.path)",
            ])
            XCTAssertEqual(reply.status, 201, "PUT \(name): \(reply.text)")
            names.append(name)
        }
        return names
    }

        static func names(_ text: String) throws -> [String] {
        guard case .array(let items) = try JSON.parse(text) else { throw E2EFailure("not a list: \(text)") }
        return items.compactMap(\.stringValue)
    }

    /// Runs the real curl binary; the body goes to a file, the status to standard output.
    static func curl(_ arguments: [String]) async throws -> (status: Int, text: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let code = try await ChildProcess.run(["curl", "-s", "-o", output.path, "-w", "%{http_code}"] + arguments)
        guard let status = Int(code) else { throw E2EFailure("curl \(arguments) printed no status: \(code)") }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
