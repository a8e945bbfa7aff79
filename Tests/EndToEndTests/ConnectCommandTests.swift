import Foundation
import PipelineCore
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary connect` as an operator runs it: the seed's three connector
/// bodies PUT with the seed's own curl command line, rows flowing from
/// Postgres into MySQL and S3, then the worker killed with SIGKILL
/// mid-stream and started again: the same connectors in the same states,
/// and every row exactly once in MySQL and S3.
final class ConnectCommandTests: XCTestCase {
    static let rows = 1_600

    func testSeedCurlCommandsThenSIGKILLAndRestart() async throws {
        let run = try await PipelineRun(label: "connect")
        run.writers.spread = .seconds(8)
        var passed = false
        defer { run.worker.killIfRunning() }
        do {
            try run.worker.start(connect: true)
            var base = try await run.worker.restBase()
            let names = try await Self.putSeedConnectors(run, base: base)
            let s3Sink = names.first { $0.hasPrefix("s3-sink") }!
            try await checkLiteralPasswordIsNeverLogged(base: base, run: run)
            let writing = run.writers.start(rows: Self.rows)
            try await run.eventually("MySQL to get rows", within: 120, every: .milliseconds(200), status: run.progress) {
                try await run.mysql.count() > 0
            }
            // A paused connector must come back paused.
            let paused = try await Self.curl(["-X", "PUT", "\(base)/connectors/\(s3Sink)/pause"])
            XCTAssertEqual(paused.status, 202)
            let ending = try await run.worker.stop(SIGKILL)
            XCTAssertEqual(ending, .signalled(SIGKILL))
            print("killed at: \(await run.progress())")

            try run.worker.start(connect: true)
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
            _ = try await writing.value
            try await run.waitUntilDelivered(rows: Self.rows)
            try await run.stopGracefully()
            try await run.assertExactlyOnce(rows: Self.rows)
            passed = testRun?.totalFailureCount == 0
        } catch {
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
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

    /// Runs the real curl binary; waits through the termination handler, off the cooperative pool.
    static func curl(_ arguments: [String]) async throws -> (status: Int, text: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", output.path, "-w", "%{http_code}"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        let done = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.continuation.finish() }
        try process.run()
        for await _ in done.stream {}
        let code = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let status = Int(code) else { throw E2EFailure("curl \(arguments) failed: exit \(process.terminationStatus)") }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
