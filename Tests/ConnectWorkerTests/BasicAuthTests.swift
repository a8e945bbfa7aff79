@testable import ConnectWorker
import Foundation
import XCTest

/// HTTP basic auth over real HTTP: without or with wrong credentials every
/// endpoint answers 401 with `WWW-Authenticate`, and the password appears
/// in no response.
final class BasicAuthTests: XCTestCase {
    func testRequestsNeedTheCredentialsFromTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rest-credentials-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("# Jetty property file, as Connect's JAAS setup names it\nops: s3cr3t-pw, admin\n".utf8).write(to: file)
        let worker = try await InProcessWorker(label: "auth", auth: try BasicAuth.load(path: file.path))
        let anonymous = worker.curl
        var reply = try await anonymous("GET", "/connectors")
        XCTAssertEqual(reply.status, 401, "\(reply)")
        XCTAssertEqual(reply.json?["error_code"], .int(401))
        var wrong = worker.curl
        wrong.user = "ops:guess"
        reply = try await wrong("PUT", "/connectors/x/config", "{}")
        XCTAssertEqual(reply.status, 401, "\(reply)")
        XCTAssertFalse(reply.text.contains("s3cr3t-pw"))
        var known = worker.curl
        known.user = "ops:s3cr3t-pw"
        reply = try await known("GET", "/connectors")
        XCTAssertEqual(reply.status, 200, "\(reply)")
        XCTAssertEqual(reply.text, "[]")
        // The challenge header, as a browser or curl --anyauth needs it.
        let headers = try await Self.headers(worker.curl.base + "/")
        XCTAssertTrue(headers.lowercased().contains("www-authenticate: basic realm="), headers)
        await worker.finish()
    }

    func testACredentialsFileWithoutASeparatorNamesTheLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rest-credentials-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("ops: pw\njust-a-name\n".utf8).write(to: file)
        XCTAssertThrowsError(try BasicAuth.load(path: file.path)) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
    }

    static func headers(_ url: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-D", "-", "-o", "/dev/null", url]
        let stdout = Pipe()
        process.standardOutput = stdout
        let done = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.continuation.finish() }
        try process.run()
        for await _ in done.stream {}
        return String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
