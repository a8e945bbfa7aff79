import Foundation
import PipelineCore
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `tributary registry` over real HTTP with a real broker, driven by
/// Confluent's Python client (Support/registry_client.py); then killed with
/// SIGKILL and started again on the same topic, behind basic auth.
final class RegistryServerTests: XCTestCase {
    func testConfluentsClientWorksAndARestartKeepsEveryIdStable() async throws {
        let registry = RegistryProcess(topic: "_schemas-test-\(UUID().uuidString.prefix(8))")
        try await registry.createTopic()
        let base = try await registry.start()
        let seen = try await PythonClient.run("scenario", base: base)

        XCTAssertEqual(seen["id1"], .int(1))
        XCTAssertEqual(seen["id1_again"], .int(1), "the same schema again is the same id")
        XCTAssertEqual(seen["id1_other_subject"], .int(1), "ids are global: the same schema in another subject keeps its id")
        XCTAssertEqual(seen["schema_by_id"]?["name"], .string("User"))
        XCTAssertEqual(seen["v2_compatible"], .bool(true))
        XCTAssertEqual(seen["id2"], .int(2))
        XCTAssertEqual(seen["framed_id"], .int(2), "AvroSerializer finds the registered schema's id")
        XCTAssertEqual(seen["decoded"], .object([("id", .int(7)), ("name", .string("n")), ("email", .null)]), "AvroDeserializer reads it back by id")
        XCTAssertEqual(seen["versions"], .array([.int(1), .int(2)]))
        XCTAssertEqual(seen["latest"], .array([.int(2), .int(2)]))
        XCTAssertEqual(seen["lookup"], .array([.int(1), .int(1)]))
        XCTAssertEqual(seen["versions_of_id1"], .array([.array([.string("other-value"), .int(1)]), .array([.string("users-value"), .int(1)])]))
        XCTAssertEqual(seen["subject_level"], .string("NONE"))
        XCTAssertEqual(seen["global_level"], .string("BACKWARD"))
        XCTAssertEqual(seen["json_id"], .int(3))
        XCTAssertEqual(seen["json_type"], .string("JSON"))
        XCTAssertEqual(seen["subjects"], .array([.string("orders-value"), .string("other-value"), .string("users-value")]))
        XCTAssertEqual(seen["delete_version"], .int(1))
        XCTAssertEqual(seen["deleted_subject_error"], .array([.int(404), .int(40401)]))
        XCTAssertEqual(seen["delete_permanent"], .array([.int(1)]))
        let errors = seen["errors"]
        XCTAssertEqual(errors?["unknown_subject"], .array([.int(404), .int(40401)]))
        XCTAssertEqual(errors?["unknown_version"], .array([.int(404), .int(40402)]))
        XCTAssertEqual(errors?["unknown_id"], .array([.int(404), .int(40403)]))
        XCTAssertEqual(errors?["invalid_schema"], .array([.int(422), .int(42201)]))
        XCTAssertEqual(errors?["invalid_level"], .array([.int(422), .int(42203)]))
        XCTAssertEqual(seen["raw_error"]?.arrayValue?.first, .int(404))
        XCTAssertEqual(seen["raw_error"]?.arrayValue?[1], .string("application/vnd.schemaregistry.v1+json"))
        XCTAssertEqual(seen["raw_error"]?.arrayValue?[2]["error_code"], .int(40403))

        // SIGKILL: nothing is flushed on the way out; what was acknowledged is in the topic.
        try await registry.stop(SIGKILL)
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("\(registry.topic).credentials")
        try Data("registry-user: s3cret\n".utf8).write(to: credentials)
        defer { try? FileManager.default.removeItem(at: credentials) }
        let again = try await registry.start(extra: ["--registry-credentials-file", credentials.path])
        let restarted = try await PythonClient.run("restarted", base: again)
        XCTAssertEqual(restarted["anonymous"], .array([.int(401), .int(401)]), "with a credentials file, a request without them is refused")
        XCTAssertEqual(restarted["schema1"]?["name"], .string("User"))
        XCTAssertEqual(restarted["versions"], .array([.int(1), .int(2)]))
        XCTAssertEqual(restarted["subject_level"], .string("NONE"))
        XCTAssertEqual(restarted["id1_again"], .int(1), "the same schema keeps its id across a restart")
        XCTAssertEqual(restarted["id_new"], .int(4), "a new schema after the restart gets a new id, not one handed out before")
        XCTAssertEqual(restarted["subjects"], .array([.string("orders-value"), .string("users-value")]))
        let status = try await registry.stop(SIGTERM)
        XCTAssertEqual(status, 0, "SIGTERM stops the registry gracefully")
    }
}

final class ConnectRegistryTests: XCTestCase {
    /// `tributary connect --registry-listeners` serves the same registry beside the Connect REST API.
    func testConnectServesTheRegistryWhenAsked() async throws {
        let registry = RegistryProcess(topic: "_schemas-connect-\(UUID().uuidString.prefix(8))")
        try await registry.createTopic()
        let base = try await registry.start(insideConnect: true)
        let seen = try await PythonClient.run("single", base: base)
        XCTAssertEqual(seen["id"], .int(1))
        XCTAssertEqual(seen["schema"]?["name"], .string("User"))
        // SIGKILL: a graceful stop waits out each HTTP server's drain time, and the registry test covers it.
        try await registry.stop(SIGKILL)
    }
}

extension JSON {
    var arrayValue: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
