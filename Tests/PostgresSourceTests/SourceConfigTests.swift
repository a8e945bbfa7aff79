import PipelineCore
import XCTest

@testable import PostgresSource

final class SourceConfigTests: XCTestCase {
    /// The seed's connector, as written for Kafka Connect.
    static let seed: [String: String] = [
        "name": "pg-users", "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector", "tasks.max": "1",
        "connection.url": "jdbc:postgresql://127.0.0.1:5432/tributary", "connection.user": "tributary",
        "connection.password": "top-secret-pw", "mode": "incrementing", "incrementing.column.name": "index",
        "topic.prefix": "P_", "table.whitelist": "USERS", "poll.interval.ms": "1000", "validate.non.null": "false",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    ]

    func testSeedConnectorAndDefaults() throws {
        let config = try PostgresSourceConfig(properties: Self.seed, environment: [:])
        XCTAssertEqual(config.name, "pg-users")
        XCTAssertEqual(config.mode, .incrementing)
        XCTAssertEqual(config.incrementingColumn, "index")
        XCTAssertEqual(config.whitelist, ["USERS"])
        XCTAssertEqual(config.topicPrefix, "P_")
        XCTAssertEqual(config.pollIntervalMilliseconds, 1000)
        XCTAssertFalse(config.validateNonNull)
        XCTAssertEqual(config.connection.parameters["user"], "tributary")
        XCTAssertEqual(config.connection.password?.value, "top-secret-pw")
        // Connect's defaults.
        XCTAssertEqual(config.batchMaxRows, 100)
        XCTAssertEqual(config.tablePollIntervalMilliseconds, 60_000)
        XCTAssertEqual(config.timestampDelayMilliseconds, 0)
        XCTAssertEqual(config.numericMapping, .none)
        XCTAssertEqual(config.tableTypes, ["TABLE"])
        XCTAssertEqual(config.connectionAttempts, 3)
        XCTAssertFalse(String(describing: config.connection).contains("top-secret-pw"))
    }

    func testDefaultsWhenUnset() throws {
        let config = try PostgresSourceConfig(properties: ["connection.url": "postgresql://h/db", "mode": "bulk", "topic.prefix": "x"], environment: [:])
        XCTAssertEqual(config.pollIntervalMilliseconds, 5_000)
        XCTAssertTrue(config.validateNonNull)
        XCTAssertNil(config.incrementingColumn)
    }

    func testPasswordFromEnvironment() throws {
        var properties = Self.seed
        properties["connection.password"] = "${env:PG_PW}"
        let config = try PostgresSourceConfig(properties: properties, environment: ["PG_PW": "from-env"])
        XCTAssertEqual(config.connection.password?.value, "from-env")
    }

    func testErrorsNameTheKey() {
        func expectError(_ change: [String: String?], key: String, file: StaticString = #filePath, line: UInt = #line) {
            var properties = Self.seed
            for (k, v) in change { properties[k] = v }
            XCTAssertThrowsError(try PostgresSourceConfig(properties: properties, environment: [:]), file: file, line: line) { error in
                guard case PipelineError.config(let named, _) = error else { return XCTFail("\(error)", file: file, line: line) }
                XCTAssertEqual(named, key, "\(error)", file: file, line: line)
                XCTAssertFalse("\(error)".contains("top-secret-pw"), file: file, line: line)
            }
        }
        expectError(["poll.intervall.ms": "5"], key: "poll.intervall.ms")  // unknown key
        expectError(["mode": "streaming"], key: "mode")
        expectError(["mode": nil], key: "mode")
        expectError(["topic.prefix": nil], key: "topic.prefix")
        expectError(["mode": "timestamp"], key: "timestamp.column.name")
        expectError(["query": "SELECT 1"], key: "query")
        expectError(["table.blacklist": "X"], key: "table.blacklist")
        expectError(["batch.max.rows": "0"], key: "batch.max.rows")
        expectError(["batch.max.rows": "many"], key: "batch.max.rows")
        expectError(["db.timezone": "Europe/Paris"], key: "db.timezone")
        expectError(["connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector"], key: "connector.class")
        expectError(["connection.url": "jdbc:mysql://h/db"], key: "connection.url")
        expectError(["numeric.mapping": "fancy"], key: "numeric.mapping")
    }

    func testNumericMappingKeys() throws {
        var properties = Self.seed
        properties["numeric.precision.mapping"] = "true"
        XCTAssertEqual(try PostgresSourceConfig(properties: properties, environment: [:]).numericMapping, .precisionOnly)
        properties["numeric.mapping"] = "best_fit"
        XCTAssertEqual(try PostgresSourceConfig(properties: properties, environment: [:]).numericMapping, .bestFit)
    }
}
