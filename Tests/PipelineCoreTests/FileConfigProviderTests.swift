import Foundation
import PipelineCore
import XCTest

/// `${file:PATH:KEY}`, Connect's FileConfigProvider syntax: the value comes
/// from a properties file when the config is read, never stored resolved.
final class FileConfigProviderTests: XCTestCase {
    let definition = ConfigDefinition(keys: [
        ConfigKey("connection.password", .password, default: "", doc: ""),
        ConfigKey("batch.size", .int, default: "1", doc: ""),
    ])

    func testResolvesAKeyOfAPropertiesFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString).properties")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("# credentials\nmysql.password = s3cret\nbatch: 42\n".utf8).write(to: file)
        let config = try ConnectorConfig(
            ["connection.password": "${file:\(file.path):mysql.password}", "batch.size": "${file:\(file.path):batch}"], definition: definition)
        XCTAssertEqual(config.string("connection.password"), "s3cret")
        XCTAssertEqual(config.int("batch.size"), 42)
    }

    func testAMissingFileOrKeyNamesTheKeyAndTheFileButNoValue() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString).properties")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("other = s3cret\n".utf8).write(to: file)
        XCTAssertThrowsError(try ConnectorConfig(["connection.password": "${file:\(file.path):mysql.password}"], definition: definition)) { error in
            XCTAssertEqual("\(error)", "configuration error for 'connection.password': file \(file.path) named by ${file:…} has no key mysql.password")
        }
        XCTAssertThrowsError(try ConnectorConfig(["connection.password": "${file:/nonexistent/x.properties:pw}"], definition: definition)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/x.properties named by ${file:…} cannot be read"), "\(error)")
        }
        XCTAssertThrowsError(try ConnectorConfig(["connection.password": "${file:\(file.path)"], definition: definition)) { error in
            XCTAssertTrue("\(error)".contains("unterminated ${file:...}"), "\(error)")
        }
    }
}
