@testable import ConnectWorker
import PipelineCore
import XCTest

/// The pure parts of the REST layer: routing, error bodies, ConfigInfos, the config store's file.
final class RouteAndBodyTests: XCTestCase {
    func route(_ method: String, _ path: String, _ query: [(String, String)] = []) throws -> ConnectRoute {
        try ConnectRoute.match(method: method, path: path, query: query)
    }

    func testRoutesMatchConnectsEndpoints() throws {
        XCTAssertEqual(try route("GET", "/"), .root)
        XCTAssertEqual(try route("GET", "/connectors", [("expand", "status"), ("expand", "info")]), .listConnectors(expandStatus: true, expandInfo: true))
        XCTAssertEqual(try route("POST", "/connectors"), .createConnector)
        XCTAssertEqual(try route("PUT", "/connectors/a%20b/config"), .putConfig("a b"))
        XCTAssertEqual(try route("POST", "/connectors/x/restart", [("includeTasks", "true")]), .restart("x", includeTasks: true, onlyFailed: false))
        XCTAssertEqual(try route("GET", "/connectors/x/tasks/0/status"), .taskStatus("x", 0))
        XCTAssertEqual(try route("POST", "/connectors/x/tasks/0/restart"), .restartTask("x", 0))
        XCTAssertEqual(try route("PUT", "/connectors/x/topics/reset"), .resetTopics("x"))
        XCTAssertEqual(try route("PATCH", "/connectors/x/offsets"), .alterOffsets("x"))
        XCTAssertEqual(try route("DELETE", "/connectors/x/offsets"), .resetOffsets("x"))
        XCTAssertEqual(try route("PUT", "/connector-plugins/S3SinkConnector/config/validate"), .validate("S3SinkConnector"))
    }

    func testUnknownPathIs404AndWrongMethodIs405() {
        XCTAssertThrowsError(try route("GET", "/nope")) { XCTAssertEqual(($0 as? ConnectRestError)?.code, 404) }
        XCTAssertThrowsError(try route("GET", "/connectors/x/tasks/zero/status")) { XCTAssertEqual(($0 as? ConnectRestError)?.code, 404) }
        XCTAssertThrowsError(try route("POST", "/connectors/x/config")) { XCTAssertEqual(($0 as? ConnectRestError)?.code, 405) }
    }

    func testErrorBodyIsConnects() {
        XCTAssertEqual(ConnectRestError.conflict("busy").body.text, #"{"error_code":409,"message":"busy"}"#)
    }

    func testConfigInfosNamesTheInvalidKeyAndHidesSecrets() throws {
        let infos = ConfigInfos.validate(.mysqlSink, [
            "connector.class": ConnectorKind.mysqlSink.rawValue, "name": "m", "topics": "T",
            "connection.url": "jdbc:mysql://127.0.0.1:3306/db", "connection.password": "s3cret",
            "insert.mode": "sideways", "batch.size": "many", "no.such.key": "1",
        ])
        XCTAssertFalse(infos.text.contains("s3cret"), infos.text)
        func value(_ key: String) -> JSON? {
            guard case .array(let configs)? = infos["configs"] else { return nil }
            return configs.first { $0["value"]?["name"]?.stringValue == key }?["value"]
        }
        XCTAssertEqual(infos["error_count"], .int(3))
        XCTAssertTrue(value("insert.mode")?["errors"]?.text.contains("'sideways' is not supported") == true, infos.text)
        XCTAssertEqual(value("insert.mode")?["recommended_values"], .array([.string("insert"), .string("upsert"), .string("update")]))
        XCTAssertTrue(value("batch.size")?["errors"]?.text.contains("expected an integer") == true)
        XCTAssertTrue(value("no.such.key")?["errors"]?.text.contains("unknown or unsupported key") == true)
        XCTAssertEqual(value("connection.password")?["value"], .string("[hidden]"))
        XCTAssertEqual(value("topics")?["errors"], .array([]))
    }

    func testConfigInfosReportsMissingRequiredKeys() {
        let infos = ConfigInfos.validate(.postgresSource, ["connector.class": ConnectorKind.postgresSource.rawValue])
        XCTAssertTrue(infos.text.contains(#"Missing required configuration \"connection.url\""#), infos.text)
    }

    /// The CDC source is a plugin like the others: Debezium's class name, its
    /// keys validated with the error naming the key, its password hidden.
    func testTheCDCSourceIsAPluginValidatedByItsOwnKeys() {
        XCTAssertEqual(ConnectorKind.plugin(named: "io.debezium.connector.postgresql.PostgresConnector"), .postgresCDC)
        XCTAssertEqual(ConnectorKind.plugin(named: "PostgresConnector"), .postgresCDC)
        XCTAssertEqual(ConnectorKind.postgresCDC.role, .source)
        let infos = ConfigInfos.validate(.postgresCDC, [
            "connector.class": ConnectorKind.postgresCDC.rawValue, "name": "cdc", "topic.prefix": "app",
            "database.hostname": "127.0.0.1", "database.user": "u", "database.password": "s3cret", "database.dbname": "db",
            "snapshot.mode": "sometimes", "slot.name": "Bad-Slot",
        ])
        XCTAssertFalse(infos.text.contains("s3cret"), infos.text)
        guard case .array(let configs)? = infos["configs"] else { return XCTFail(infos.text) }
        let snapshot = configs.first { $0["value"]?["name"]?.stringValue == "snapshot.mode" }?["value"]
        XCTAssertTrue(snapshot?["errors"]?.text.contains("sometimes") == true, infos.text)
        XCTAssertTrue(snapshot?["recommended_values"]?.text.contains("initial") == true, infos.text)
        XCTAssertEqual(ConnectorChecks.topics(["topic.prefix": "app", "table.include.list": "public.users"], kind: .postgresCDC), ["app.public.users"])
    }

    func testConfigStoreRoundTripKeepsPlaceholdersAndStates() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-store-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = FileConfigStore(path: directory.appendingPathComponent("nested/configs.json").path)
        let empty = try await store.load()
        XCTAssertEqual(empty, [:])
        let saved = [
            "a": StoredConnector(config: ["connection.url": "${env:TRIBUTARY_PG_URL}", "name": "a"], target: .paused),
            "b": StoredConnector(config: ["password": "${file:/etc/secret:pw}"], target: .stopped),
        ]
        try await store.save(saved)
        let loaded = try await FileConfigStore(path: store.path).load()
        XCTAssertEqual(loaded, saved)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path + ".tmp"), "the temp file is renamed over the store")
    }

    func testBasicAuthChecksUserAndPassword() {
        let auth = BasicAuth(credentials: ["admin": "pa:ss"])
        XCTAssertTrue(auth.allows("Basic " + Data("admin:pa:ss".utf8).base64EncodedString()))
        XCTAssertFalse(auth.allows("Basic " + Data("admin:pass".utf8).base64EncodedString()))
        XCTAssertFalse(auth.allows("Basic " + Data("root:pa:ss".utf8).base64EncodedString()))
        XCTAssertFalse(auth.allows(nil))
        XCTAssertFalse(auth.allows("Bearer x"))
    }
}
