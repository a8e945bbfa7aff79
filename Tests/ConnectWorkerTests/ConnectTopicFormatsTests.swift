@testable import ConnectWorker
import PipelineCore
import XCTest

/// The records of Connect's internal topics, byte for byte as Connect's
/// backing stores (JsonConverter, schemas off) write and read them.
final class ConnectTopicFormatsTests: XCTestCase {
    private let config = ["name": "users", "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector", "connection.password": "${env:PW}"]

    private func texts(_ records: [ConnectTopicFormats.Record]) -> [String] {
        records.map { "\($0.key)=\($0.value?.text ?? "null")" }
    }

    func testCreatePauseStopResumeAndDeleteWriteConnectRecords() {
        let running = ["users": StoredConnector(config: config, target: .running)]
        let properties = #"{"properties":{"connection.password":"${env:PW}","connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","name":"users"}}"#
        XCTAssertEqual(
            texts(ConnectTopicFormats.configChanges(from: [:], to: running)),
            [
                #"target-state-users={"state":"STARTED"}"#, "connector-users=\(properties)", "task-users-0=\(properties)",
                #"commit-users={"tasks":1}"#,
            ])
        var paused = running
        paused["users"]?.target = .paused
        XCTAssertEqual(texts(ConnectTopicFormats.configChanges(from: running, to: paused)), [#"target-state-users={"state":"PAUSED","state.v2":"PAUSED"}"#])
        var stopped = running
        stopped["users"]?.target = .stopped
        XCTAssertEqual(texts(ConnectTopicFormats.configChanges(from: paused, to: stopped)), [#"target-state-users={"state":"PAUSED","state.v2":"STOPPED"}"#])
        XCTAssertEqual(texts(ConnectTopicFormats.configChanges(from: stopped, to: stopped)), [])
        XCTAssertEqual(texts(ConnectTopicFormats.configChanges(from: stopped, to: [:])), ["connector-users=null", "target-state-users=null"])
    }

    func testReadingBackGivesEachConnectorItsLastConfigAndState() throws {
        var state: [String: StoredConnector] = [:]
        var records: [ConnectTopicFormats.Record] = []
        func apply(_ next: [String: StoredConnector]) {
            records += ConnectTopicFormats.configChanges(from: state, to: next)
            state = next
        }
        apply(["a": StoredConnector(config: config, target: .running), "b": StoredConnector(config: ["x": "1"], target: .running)])
        apply(["a": StoredConnector(config: config, target: .stopped), "b": StoredConnector(config: ["x": "2"], target: .paused)])
        apply(["b": StoredConnector(config: ["x": "2"], target: .paused)])
        XCTAssertEqual(try ConnectTopicFormats.connectors(from: records, topic: "t"), state)
    }

    /// What an older Connect wrote: PAUSED without `state.v2`, and a
    /// connector with no target-state record at all (it runs).
    func testReadsConnectsLegacyRecords() throws {
        let records = [
            ConnectTopicFormats.Record(key: "connector-old", value: try JSON.parse(#"{"properties":{"name":"old"}}"#)),
            ConnectTopicFormats.Record(key: "target-state-old", value: try JSON.parse(#"{"state":"PAUSED"}"#)),
            ConnectTopicFormats.Record(key: "connector-plain", value: try JSON.parse(#"{"properties":{"name":"plain"}}"#)),
            ConnectTopicFormats.Record(key: "session-key", value: try JSON.parse(#"{"key":"abc","algorithm":"HmacSHA256","creation-timestamp":1}"#)),
        ]
        let connectors = try ConnectTopicFormats.connectors(from: records, topic: "t")
        XCTAssertEqual(connectors["old"], StoredConnector(config: ["name": "old"], target: .paused))
        XCTAssertEqual(connectors["plain"], StoredConnector(config: ["name": "plain"], target: .running))
        XCTAssertEqual(connectors.count, 2)
    }

    func testAConfigRecordWithoutPropertiesIsAnErrorNamingIt() {
        let records = [ConnectTopicFormats.Record(key: "connector-bad", value: .object([("config", .null)]))]
        XCTAssertThrowsError(try ConnectTopicFormats.connectors(from: records, topic: "cfg")) { error in
            XCTAssertTrue("\(error)".contains("connector-bad"), "\(error)")
            XCTAssertTrue("\(error)".contains("cfg"), "\(error)")
        }
    }

    func testOffsetKeysAreConnectorAndSourcePartition() throws {
        XCTAssertEqual(ConnectTopicFormats.offsetKey("users/public.USERS")?.text, #"["users",{"table":"public.USERS"}]"#)
        XCTAssertEqual(ConnectTopicFormats.offsetKey("q/query")?.text, #"["q",{"query":"query"}]"#)
        XCTAssertEqual(ConnectTopicFormats.offsetKey("cdc-source/cdc")?.text, #"["cdc-source",{"server":"cdc-source"}]"#)
        XCTAssertNil(ConnectTopicFormats.offsetKey("no-slash"))
        for local in ["users/public.USERS", "q/query", "cdc-source/cdc"] {
            XCTAssertEqual(ConnectTopicFormats.localOffsetKey(ConnectTopicFormats.offsetKey(local)!), local)
        }
        // Another connector's partition shape (a file source's) is none of ours.
        XCTAssertNil(ConnectTopicFormats.localOffsetKey(try JSON.parse(#"["file",{"filename":"/tmp/x"}]"#)))
    }

    func testStatusValue() {
        XCTAssertEqual(
            ConnectTopicFormats.statusValue(ConnectorStatus(state: .running), workerID: "127.0.0.1:8083", generation: 2).text,
            #"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":2}"#)
        XCTAssertEqual(
            ConnectTopicFormats.statusValue(ConnectorStatus(state: .failed, trace: "boom"), workerID: "w", generation: 0).text,
            #"{"state":"FAILED","trace":"boom","worker_id":"w","generation":0}"#)
    }

    func testDistributedModeNeedsAllFourKeys() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let partial = directory.appendingPathComponent("partial.properties")
        try Data("group.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n".utf8).write(to: partial)
        XCTAssertThrowsError(try WorkerSettings.load(path: partial.path)) { error in
            XCTAssertTrue("\(error)".contains("status.storage.topic"), "\(error)")
        }
        let full = directory.appendingPathComponent("full.properties")
        try Data("group.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\nstatus.storage.topic=s\nsession.timeout.ms=6000\n".utf8).write(to: full)
        let storage = try XCTUnwrap(try WorkerSettings.load(path: full.path).distributed)
        XCTAssertEqual([storage.groupID, storage.configTopic, storage.offsetTopic, storage.statusTopic], ["g", "c", "o", "s"])
        XCTAssertEqual(storage.sessionTimeoutMilliseconds, 6000)
        let standalone = directory.appendingPathComponent("standalone.properties")
        try Data("offset.storage.file.filename=/tmp/offsets.json\n".utf8).write(to: standalone)
        XCTAssertNil(try WorkerSettings.load(path: standalone.path).distributed)
    }
}
