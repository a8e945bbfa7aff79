@testable import ConnectWorker
import Foundation
import PipelineCore
import XCTest

/// Every endpoint over real HTTP (the `curl` binary) against a worker in
/// this process, with the real Kafka, MySQL, PostgreSQL and S3 behind it.
final class ConnectAPITests: XCTestCase {
    func testEveryEndpointWithItsSuccessAndErrorResponses() async throws {
        let worker = try await InProcessWorker(label: "endpoints")
        let curl = worker.curl
        var passed = false
        defer { if !passed { print("state kept in \(worker.directory.path)") } }

        var reply = try await curl("GET", "/")
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.json?["version"], .string(ConnectRestAPI.version))
        XCTAssertNotNil(reply.json?["kafka_cluster_id"]?.stringValue, "\(reply)")
        reply = try await curl("GET", "/connector-plugins")
        XCTAssertEqual(reply.status, 200)
        XCTAssertTrue(reply.text.contains(#""class":"io.confluent.connect.s3.S3SinkConnector","type":"sink""#), "\(reply)")

        let sink = Bodies.unique("mysql"), other = Bodies.unique("s3"), topic = Bodies.unique("T")
        // Create (201), then update (200); GET config gives the placeholders back unresolved.
        reply = try await curl("PUT", "/connectors/\(sink)/config", Bodies.mysqlSink(topic: topic))
        XCTAssertEqual(reply.status, 201, "\(reply)")
        XCTAssertEqual(reply.json?["type"], .string("sink"))
        reply = try await curl("PUT", "/connectors/\(sink)/config", Bodies.mysqlSink(topic: topic, extra: #","batch.size":500"#))
        XCTAssertEqual(reply.status, 200, "\(reply)")
        reply = try await curl("GET", "/connectors/\(sink)/config")
        XCTAssertEqual(reply.json?["connection.url"], .string("${env:TRIBUTARY_MYSQL_URL}"), "\(reply)")
        XCTAssertEqual(reply.json?["batch.size"], .string("500"))

        // Bad requests, each with Connect's error body.
        try await expectError(curl("PUT", "/connectors/\(sink)/config", #"{"topics": "#), 400, "Malformed JSON")
        try await expectError(curl("PUT", "/connectors/\(sink)/config", #"{"connector.class":"com.example.Nope","name":"\#(sink)"}"#), 400, "connector.class")
        try await expectError(curl("PUT", "/connectors/\(sink)/config", Bodies.mysqlSink(topic: topic, extra: #","insert.mode":"sideways""#)), 400, "insert.mode")
        try await expectError(curl("PUT", "/connectors/\(sink)/config", Bodies.mysqlSink(topic: topic, extra: #","name":"someone-else""#)), 400, "doesn't match")
        try await expectError(curl("PUT", "/connectors/\(sink)/config", Bodies.mysqlSink(topic: topic, extra: #","bacth.size":"5""#)), 400, "did you mean 'batch.size'")
        try await expectError(curl("GET", "/connectors/nobody/status"), 404, "Connector nobody not found")
        try await expectError(curl("PUT", "/connectors/nobody/pause"), 404, "not found")
        try await expectError(curl("GET", "/connectors/\(sink)/tasks/1/status"), 404, "Task 1")

        // Validate names the key at fault; an unknown plugin is a 404.
        reply = try await curl("PUT", "/connector-plugins/JdbcSinkConnector/config/validate", Bodies.mysqlSink(topic: topic, extra: #","insert.mode":"sideways""#))
        XCTAssertEqual(reply.status, 200, "\(reply)")
        XCTAssertEqual(reply.json?["error_count"], .int(1), "\(reply)")
        XCTAssertTrue(reply.text.contains("configuration error for 'insert.mode'"), "\(reply)")
        try await expectError(curl("PUT", "/connector-plugins/NoSuchConnector/config/validate", "{}"), 404, "NoSuchConnector")

        // POST creates (201) and refuses an existing name (409).
        let post = #"{"name":"\#(other)","config":\#(Bodies.s3Sink(topic: topic))}"#
        reply = try await curl("POST", "/connectors", post)
        XCTAssertEqual(reply.status, 201, "\(reply)")
        try await expectError(curl("POST", "/connectors", post), 409, "already exists")
        try await expectError(curl("POST", "/connectors", #"{"config":{}}"#), 400, "name")

        reply = try await curl("GET", "/connectors")
        XCTAssertTrue(reply.json.map { "\($0)" }?.contains(sink) == true && reply.text.contains(other), "\(reply)")
        reply = try await curl("GET", "/connectors?expand=status&expand=info")
        XCTAssertEqual(reply.json?[sink]?["status"]?["connector"]?["state"], .string("RUNNING"), "\(reply)")
        XCTAssertEqual(reply.json?[sink]?["info"]?["config"]?["topics"], .string(topic), "\(reply)")
        reply = try await curl("GET", "/connectors/\(sink)")
        XCTAssertEqual(reply.json?["tasks"], .array([.object([("connector", .string(sink)), ("task", .int(0))])]), "\(reply)")
        reply = try await curl("GET", "/connectors/\(sink)/tasks")
        XCTAssertTrue(reply.text.hasPrefix(#"[{"id":{"connector":"\#(sink)","task":0},"config":{"#), "\(reply)")
        reply = try await curl("GET", "/connectors/\(sink)/tasks/0/status")
        XCTAssertEqual(reply.json?["state"], .string("RUNNING"), "\(reply)")

        // Pause, resume, stop.
        try await expectStatus(curl("PUT", "/connectors/\(sink)/pause"), 202)
        try await worker.waitForState(sink, "PAUSED")
        try await expectStatus(curl("PUT", "/connectors/\(sink)/resume"), 202)
        try await worker.waitForState(sink, "RUNNING")
        try await expectStatus(curl("PUT", "/connectors/\(sink)/stop"), 204)
        reply = try await curl("GET", "/connectors/\(sink)/status")
        XCTAssertEqual(reply.json?["connector"]?["state"], .string("STOPPED"), "\(reply)")
        XCTAssertEqual(reply.json?["tasks"], .array([]), "a stopped connector has no tasks")

        // Topics and their reset.
        reply = try await curl("GET", "/connectors/\(sink)/topics")
        XCTAssertEqual(reply.json?[sink]?["topics"], .array([.string(topic)]), "\(reply)")
        try await expectStatus(curl("PUT", "/connectors/\(sink)/topics/reset"), 200)
        reply = try await curl("GET", "/connectors/\(sink)/topics")
        XCTAssertEqual(reply.json?[sink]?["topics"], .array([]))

        // Offsets: sinks read where they resume from; altering refuses on a running
        // connector (SinkOffsetsTests alters and resets them).
        reply = try await curl("GET", "/connectors/\(sink)/offsets")
        XCTAssertEqual(reply.status, 200, "\(reply)")
        XCTAssertEqual(reply.json?["offsets"], .array([]), "\(reply)")
        reply = try await curl("GET", "/connectors/\(other)/offsets")
        XCTAssertEqual(reply.json?["offsets"], .array([]), "\(reply)")
        try await expectError(curl("DELETE", "/connectors/\(other)/offsets"), 400, "STOPPED")
        reply = try await curl("DELETE", "/connectors/\(sink)/offsets")
        XCTAssertEqual(reply.text, #"{"message":"The offsets for this connector have been reset successfully"}"#, "\(reply)")

        // A source's offsets, altered and reset while it is stopped.
        let source = Bodies.unique("pg")
        try await expectStatus(curl("PUT", "/connectors/\(source)/config", Bodies.postgresSource(table: "NO_SUCH_TABLE_\(UInt32.random(in: 0...9999))")), 201)
        try await expectStatus(curl("PUT", "/connectors/\(source)/stop"), 204)
        let patch = #"{"offsets":[{"partition":{"table":"public.USERS"},"offset":{"incrementing":42}}]}"#
        reply = try await curl("PATCH", "/connectors/\(source)/offsets", patch)
        XCTAssertEqual(reply.status, 200, "\(reply)")
        reply = try await curl("GET", "/connectors/\(source)/offsets")
        XCTAssertEqual(reply.text, #"{"offsets":[{"partition":{"table":"public.USERS"},"offset":{"incrementing":42}}]}"#)
        try await expectError(curl("PATCH", "/connectors/\(source)/offsets", #"{"offsets":[{"partition":{"nope":1},"offset":{}}]}"#), 400, "partition")
        try await expectStatus(curl("DELETE", "/connectors/\(source)/offsets"), 200)
        reply = try await curl("GET", "/connectors/\(source)/offsets")
        XCTAssertEqual(reply.json?["offsets"], .array([]))

        // Restarts.
        try await expectStatus(curl("POST", "/connectors/\(other)/restart"), 204)
        try await worker.waitForState(other, "RUNNING")
        reply = try await curl("POST", "/connectors/\(other)/restart?includeTasks=true&onlyFailed=false")
        XCTAssertEqual(reply.status, 202, "\(reply)")
        try await worker.waitForState(other, "RUNNING")
        try await expectStatus(curl("POST", "/connectors/\(other)/tasks/0/restart"), 204)
        try await worker.waitForState(other, "RUNNING")

        // Delete.
        for name in [sink, other, source] { try await expectStatus(curl("DELETE", "/connectors/\(name)"), 204) }
        try await expectError(curl("DELETE", "/connectors/\(sink)"), 404, "not found")
        reply = try await curl("GET", "/connectors")
        XCTAssertEqual(reply.text, "[]")
        await worker.finish()
        passed = true
    }

    func testDeleteDuringARestartIsAConflict() async throws {
        let name = Bodies.unique("gated")
        let worker = try await InProcessWorker(label: "restart") { $0 == name }
        let curl = worker.curl
        try await expectStatus(curl("PUT", "/connectors/\(name)/config", Bodies.s3Sink(topic: Bodies.unique("T"))), 201)
        try await expectStatus(curl("POST", "/connectors/\(name)/restart"), 204)
        // The old run stopped gracefully and now waits on the gate: the restart is in progress.
        try await expectError(curl("DELETE", "/connectors/\(name)"), 409, "restarting")
        let restarting = try await curl("GET", "/connectors/\(name)/status")
        XCTAssertEqual(restarting.json?["connector"]?["state"], .string("RESTARTING"))
        worker.gate.release()
        try await worker.waitForState(name, "RUNNING")
        try await expectStatus(curl("DELETE", "/connectors/\(name)"), 204)
        await worker.finish()
    }

    /// A connector that fails is FAILED with the error as `trace` (without
    /// the password); `onlyFailed` restarts it and leaves a running one alone.
    func testAFailedConnectorShowsItsTraceAndOnlyFailedRestartsIt() async throws {
        let worker = try await InProcessWorker(label: "failed")
        let curl = worker.curl
        let failing = Bodies.unique("denied"), healthy = Bodies.unique("ok"), topic = Bodies.unique("T")
        let password = "wrong-\(UInt32.random(in: 0...UInt32.max))"
        var reply = try await curl("PUT", "/connectors/\(failing)/config", Bodies.mysqlSink(
            topic: topic, extra: #","connection.user":"nobody","connection.password":"\#(password)""#))
        XCTAssertEqual(reply.status, 201, "\(reply)")
        try await expectStatus(curl("PUT", "/connectors/\(healthy)/config", Bodies.s3Sink(topic: topic)), 201)
        try await worker.waitForState(failing, "FAILED")
        reply = try await curl("GET", "/connectors/\(failing)/status")
        XCTAssertTrue(reply.json?["connector"]?["trace"]?.stringValue?.contains("Access denied") == true, "\(reply)")
        XCTAssertEqual(reply.json?["tasks"]?.text.contains(#""state":"FAILED""#), true, "\(reply)")
        XCTAssertFalse(reply.text.contains(password), "\(reply)")

        reply = try await curl("POST", "/connectors/\(healthy)/restart?onlyFailed=true&includeTasks=true")
        XCTAssertEqual(reply.status, 202, "\(reply)")
        XCTAssertEqual(reply.json?["connector"]?["state"], .string("RUNNING"), "a running connector is not restarted: \(reply)")
        reply = try await curl("POST", "/connectors/\(failing)/restart?onlyFailed=true&includeTasks=true")
        XCTAssertEqual(reply.status, 202, "\(reply)")
        XCTAssertEqual(reply.json?["connector"]?["state"], .string("RESTARTING"), "\(reply)")
        try await worker.waitForState(failing, "FAILED")
        await worker.finish()
    }

    /// Forty calls at once on five connectors: every connector ends in the
    /// state of its last call, the store agrees, and exactly one run exists
    /// per running connector (none lost, none doubled).
    func testFortyConcurrentCallsLeaveAConsistentState() async throws {
        let worker = try await InProcessWorker(label: "concurrent")
        let curl = worker.curl
        let names = (0..<5).map { _ in Bodies.unique("c") }
        let topic = Bodies.unique("T")
        let operations: [(String, String, String?)] = names.flatMap { name in
            [
                ("PUT", "/connectors/\(name)/config", Bodies.s3Sink(topic: topic)), ("PUT", "/connectors/\(name)/pause", nil),
                ("PUT", "/connectors/\(name)/resume", nil), ("DELETE", "/connectors/\(name)", nil),
                ("PUT", "/connectors/\(name)/config", Bodies.s3Sink(topic: topic, extra: #","flush.size":"7""#)),
                ("PUT", "/connectors/\(name)/pause", nil), ("PUT", "/connectors/\(name)/resume", nil), ("PUT", "/connectors/\(name)/stop", nil),
            ]
        }
        XCTAssertEqual(operations.count, 40)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for (method, path, body) in operations.shuffled() { group.addTask { try await curl(method, path, body).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // In any order, each call succeeds or fails as Connect's would: nothing else.
        XCTAssertTrue(statuses.allSatisfy { [200, 201, 202, 204, 404].contains($0) }, "\(statuses)")

        // Settle: one more call per connector, queued behind the others, fixes its final state.
        for (index, name) in names.enumerated() {
            _ = try await curl("PUT", "/connectors/\(name)/config", Bodies.s3Sink(topic: topic))
            _ = try await curl("PUT", "/connectors/\(name)/\(index.isMultiple(of: 2) ? "resume" : "pause")")
        }
        let listed = try await curl("GET", "/connectors?expand=status")
        for (index, name) in names.enumerated() {
            XCTAssertEqual(listed.json?[name]?["status"]?["connector"]?["state"], .string(index.isMultiple(of: 2) ? "RUNNING" : "PAUSED"), "\(listed)")
        }
        let stored = try await FileConfigStore(path: worker.directory.appendingPathComponent("configs.json").path).load()
        XCTAssertEqual(Set(stored.keys), Set(names))
        for (index, name) in names.enumerated() {
            XCTAssertEqual(stored[name]?.target, index.isMultiple(of: 2) ? .running : .paused)
        }
        let withRun = await worker.service.herder.runs()
        let liveRuns = worker.service.herder.liveRuns.value
        XCTAssertEqual(withRun, 3, "one task run per running connector")
        XCTAssertEqual(liveRuns, withRun, "no orphaned or doubled run")
        await worker.finish()
    }

    private func expectStatus(_ reply: Curl.Reply, _ code: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        XCTAssertEqual(reply.status, code, "\(reply)", file: file, line: line)
    }

    private func expectError(_ reply: Curl.Reply, _ code: Int, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        XCTAssertEqual(reply.status, code, "\(reply)", file: file, line: line)
        XCTAssertEqual(reply.json?["error_code"], .int(Int64(code)), "\(reply)", file: file, line: line)
        XCTAssertTrue(reply.json?["message"]?.stringValue?.contains(fragment) == true, "expected '\(fragment)' in \(reply)", file: file, line: line)
    }
}
