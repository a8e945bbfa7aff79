import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// Connect JDBC sink properties: defaults, the seed connector, validation.
final class MySQLSinkConfigTests: XCTestCase {
    private func config(_ properties: [String: String], environment: [String: String] = [:]) throws -> MySQLSinkConfig {
        try MySQLSinkConfig(properties: properties, environment: environment)
    }

    func testSeedConnectorRunsUnchangedWithConnectDefaults() throws {
        // The seed sink, as a Kafka Connect user would POST it.
        let json = """
            {"name": "jdbc-sink-mysql", "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
             "tasks.max": "1", "topics": "P_USERS", "connection.url": "jdbc:mysql://mysql:3306/TEST",
             "connection.user": "root", "connection.password": "${env:MYSQL_PW}", "insert.mode": "insert", "auto.create": "true"}}
            """
        let spec = try ConnectorSpec.parse(Array(json.utf8), fallbackName: "x")
        let config = try config(spec.properties, environment: ["MYSQL_PW": "s3cret"])
        XCTAssertEqual(config.name, "jdbc-sink-mysql")
        XCTAssertEqual(config.groupID, "connect-jdbc-sink-mysql")
        XCTAssertEqual(config.topics, ["P_USERS"])
        XCTAssertEqual(config.connection.host, "mysql")
        XCTAssertEqual(config.connection.database, "TEST")
        XCTAssertEqual(config.connection.password.value, "s3cret")
        XCTAssertEqual(config.tableNameFormat, "${topic}")
        XCTAssertEqual(config.insertMode, .insert)
        XCTAssertEqual(config.pkMode, MySQLSinkConfig.PrimaryKeyMode.none)
        XCTAssertTrue(config.autoCreate)
        XCTAssertFalse(config.autoEvolve)
        XCTAssertFalse(config.deleteEnabled)
        XCTAssertEqual(config.batchSize, 3000)
        XCTAssertEqual(config.maxRetries, 10)
        XCTAssertEqual(config.retryBackoff, .seconds(3))
        XCTAssertFalse(config.toleratesErrors)
        XCTAssertFalse("\(config)".contains("s3cret"))
    }

    func testProjectSeedFileParses() throws {
        // Examples/connectors/mysql-sink.json reads the URL from the environment.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples/connectors/mysql-sink.json")
        let spec = try ConnectorSpec.parse(Array(try Data(contentsOf: url)), fallbackName: "mysql-sink")
        let config = try config(spec.properties, environment: ["TRIBUTARY_MYSQL_URL": "mysql://u:p@127.0.0.1:3307/tributary"])
        XCTAssertEqual(config.connection.port, 3307)
        XCTAssertEqual(config.connection.user, "u")
    }

    func testInvalidCombinationsAreErrorsNamingTheKey() {
        let base = ["connection.url": "jdbc:mysql://h/db", "topics": "t"]
        let cases: [([String: String], String)] = [
            (["delete.enabled": "true", "pk.mode": "record_value"], "delete.enabled"),
            (["insert.mode": "upsert"], "insert.mode"),
            (["pk.mode": "kafka", "pk.fields": "a,b"], "pk.fields"),
            (["topics.regex": "t.*"], "topics"),
            (["insert.mode": "merge"], "insert.mode"),
            (["pk.mode": "record_keys"], "pk.mode"),
            (["db.timezone": "Europe/Paris"], "db.timezone"),
            (["dialect.name": "PostgreSqlDatabaseDialect"], "dialect.name"),
            (["batch.size": "lots"], "batch.size"),
            (["table.name.fromat": "x"], "table.name.fromat"),
        ]
        for (extra, key) in cases {
            XCTAssertThrowsError(try config(base.merging(extra) { _, new in new })) { error in
                guard case PipelineError.config(let named, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(named, key, "\(error)")
            }
        }
        XCTAssertThrowsError(try config(["connection.url": "jdbc:mysql://h/", "topics": "t"]))  // no database
    }
}
