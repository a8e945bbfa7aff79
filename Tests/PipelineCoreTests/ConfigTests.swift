import PipelineCore
import XCTest

final class ConfigTests: XCTestCase {
    let definition = ConfigDefinition(keys: [
        ConfigKey("connection.url", .string, default: nil, doc: "URL"),
        ConfigKey("connection.password", .password, default: "", doc: "Password"),
        ConfigKey("poll.interval.ms", .int, default: "5000", doc: "Poll interval"),
        ConfigKey("mode", .string, default: "", doc: "Mode", validValues: ["bulk", "incrementing"]),
        ConfigKey("table.whitelist", .list, default: "", doc: "Tables"),
    ])

    func testDefaultsAndTypedAccessors() throws {
        let config = try ConnectorConfig(["connection.url": "jdbc:postgresql://h/db", "table.whitelist": " USERS, ORDERS ,"], definition: definition)
        XCTAssertEqual(config.int("poll.interval.ms"), 5000)
        XCTAssertEqual(config.list("table.whitelist"), ["USERS", "ORDERS"])
        XCTAssertEqual(config.string("tasks.max"), "1")
        XCTAssertTrue(config.bool("value.converter.schemas.enable"))
    }

    func testUnknownKeySuggestsTheClosest() {
        XCTAssertThrowsError(try ConnectorConfig(["connection.url": "x", "poll.intervall.ms": "1"], definition: definition)) { error in
            XCTAssertEqual(error as? PipelineError, .config(key: "poll.intervall.ms", reason: "unknown or unsupported key; did you mean 'poll.interval.ms'?"))
        }
    }

    func testRequiredTypedAndEnumeratedValues() {
        XCTAssertThrowsError(try ConnectorConfig([:], definition: definition)) { error in
            XCTAssertEqual(error as? PipelineError, .config(key: "connection.url", reason: "missing required key"))
        }
        XCTAssertThrowsError(try ConnectorConfig(["connection.url": "x", "poll.interval.ms": "soon"], definition: definition)) { error in
            XCTAssertTrue("\(error)".contains("'poll.interval.ms': expected an integer, got 'soon'"), "\(error)")
        }
        XCTAssertThrowsError(try ConnectorConfig(["connection.url": "x", "mode": "timestamp"], definition: definition)) { error in
            XCTAssertTrue("\(error)".contains("use one of: bulk, incrementing"), "\(error)")
        }
        XCTAssertThrowsError(try ConnectorConfig(["connection.url": "x", "value.converter": "io.confluent.connect.protobuf.ProtobufConverter"], definition: definition))
    }

    func testEnvironmentSubstitution() throws {
        let env = ["PG_PASSWORD": "s3cr3t", "HOST": "db"]
        let config = try ConnectorConfig(
            ["connection.url": "jdbc:postgresql://${env:HOST}:5432/x", "connection.password": "${env:PG_PASSWORD}"],
            definition: definition, environment: env)
        XCTAssertEqual(config.string("connection.url"), "jdbc:postgresql://db:5432/x")
        XCTAssertEqual(config.secret("connection.password").value, "s3cr3t")
        XCTAssertThrowsError(try ConnectorConfig(["connection.url": "${env:NOPE}"], definition: definition, environment: env)) { error in
            XCTAssertEqual(error as? PipelineError, .config(key: "connection.url", reason: "environment variable NOPE is not set"))
        }
    }

    func testSecretsNeverPrinted() throws {
        let config = try ConnectorConfig(
            ["connection.url": "mysql://app:hunter2@db:3306/x", "connection.password": "hunter2", "kafka.sasl.password": "hunter2"],
            definition: definition)
        let printed = "\(config)"
        XCTAssertFalse(printed.contains("hunter2"), printed)
        XCTAssertTrue(printed.contains("connection.password=[hidden]"), printed)
        XCTAssertTrue(printed.contains("mysql://app:[hidden]@db:3306/x"), printed)
        XCTAssertEqual("\(Secret("hunter2"))", "[hidden]")
        var dumped = ""
        dump(Secret("hunter2"), to: &dumped)
        XCTAssertFalse(dumped.contains("hunter2"), dumped)
        XCTAssertEqual(config.withPrefix("kafka."), ["sasl.password": "hunter2"])
    }

    func testConnectorSpecForms() throws {
        let wrapped = try ConnectorSpec.parse(Array(#"{"name":"jdbc-src","config":{"mode":"bulk","poll.interval.ms":1000,"x":true}}"#.utf8), fallbackName: "f")
        XCTAssertEqual(wrapped.name, "jdbc-src")
        XCTAssertEqual(wrapped.properties["poll.interval.ms"], "1000")
        XCTAssertEqual(wrapped.properties["x"], "true")
        let bare = try ConnectorSpec.parse(Array(#"{"mode":"bulk"}"#.utf8), fallbackName: "file")
        XCTAssertEqual(bare.name, "file")
        XCTAssertThrowsError(try ConnectorSpec.parse(Array("[1]".utf8), fallbackName: "f"))
    }
}
