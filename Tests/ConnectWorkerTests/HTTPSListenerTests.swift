@testable import ConnectWorker
import CSSL
import Foundation
import PipelineCore
import XCTest

/// The https listener with a self-signed certificate made by `openssl req`,
/// driven by the real curl: the API answers over TLS to a client that
/// trusts the certificate, and to nobody over plain HTTP or without trust.
final class HTTPSListenerTests: XCTestCase {
    private var directory: URL!

    override func setUp() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("https-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A self-signed certificate for 127.0.0.1, its key encrypted with `password` (or not).
    private func makeCertificate(password: String?) async throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        try await run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"] + (password.map { ["-passout", "pass:\($0)"] } ?? ["-nodes"]))
        return (cert, key)
    }

    func testTheAPIAnswersOverTLSToAClientTrustingTheCertificateOnly() async throws {
        let password = "pem-pass-\(UInt32.random(in: 0...UInt32.max))"
        let (cert, key) = try await makeCertificate(password: password)
        let worker = try await InProcessWorker(
            label: "https", tls: TLSSettings(certificateChainPath: cert, privateKeyPath: key, keyPassword: password), caFile: cert)
        do {
            XCTAssertEqual(worker.service.boundListener.value?.secure, true)
            let root = try await worker.curl("GET", "/")
            XCTAssertEqual(root.status, 200, "\(root)")
            XCTAssertNotNil(root.json?["version"]?.stringValue, "\(root)")
            let created = try await worker.curl("PUT", "/connectors/tls-probe/config", Bodies.mysqlSink(topic: "NO_DATA_TLS"))
            XCTAssertEqual(created.status, 201, "\(created)")
            let listed = try await worker.curl("GET", "/connectors")
            XCTAssertEqual(listed.text, #"["tls-probe"]"#)
            // A body larger than one TLS record (16 KiB) crosses the relay whole.
            let long = String(repeating: "x", count: 40_000)
            let validated = try await worker.curl(
                "PUT", "/connector-plugins/JdbcSinkConnector/config/validate",
                #"{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","topics":"T","connection.url":"\#(long)"}"#)
            XCTAssertEqual(validated.status, 200)
            XCTAssertTrue(validated.text.contains(long))

            let untrusting = Curl(base: worker.curl.base)
            do {
                _ = try await untrusting("GET", "/")
                XCTFail("curl accepted a self-signed certificate it was not given")
            } catch {}
            let plain = Curl(base: worker.curl.base.replacingOccurrences(of: "https://", with: "http://"))
            do {
                let reply = try await plain("GET", "/")
                XCTFail("plain HTTP was answered on the https port: \(reply)")
            } catch {}
            // The listener still serves after those failed handshakes.
            let after = try await worker.curl("DELETE", "/connectors/tls-probe")
            XCTAssertEqual(after.status, 204, "\(after)")
        } catch {
            await worker.finish()
            throw error
        }
        await worker.finish()
    }

    func testAWrongKeyPasswordOrAForeignKeyIsAnErrorNamingTheKeyNotThePassword() async throws {
        let (cert, key) = try await makeCertificate(password: "right-one")
        XCTAssertThrowsError(try TLSSettings(certificateChainPath: cert, privateKeyPath: key, keyPassword: "wrong-one").makeContext()) {
            XCTAssertTrue("\($0)".contains("listeners.https.ssl.key.location"), "\($0)")
            XCTAssertFalse("\($0)".contains("wrong-one"), "\($0)")
        }
        XCTAssertThrowsError(try TLSSettings(certificateChainPath: cert, privateKeyPath: key).makeContext()) {
            XCTAssertTrue("\($0)".contains("listeners.https.ssl.key.password"), "\($0)")
        }
        XCTAssertThrowsError(try TLSSettings(certificateChainPath: directory.appendingPathComponent("none.pem").path).makeContext()) {
            XCTAssertTrue("\($0)".contains("listeners.https.ssl.keystore.location"), "\($0)")
        }
        // Another certificate's key.
        let other = directory.appendingPathComponent("other.pem").path
        try await run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other])
        XCTAssertThrowsError(try TLSSettings(certificateChainPath: cert, privateKeyPath: other).makeContext()) {
            XCTAssertTrue("\($0)".contains("does not match"), "\($0)")
        }
        let context = try TLSSettings(certificateChainPath: cert, privateKeyPath: key, keyPassword: "right-one").makeContext()
        SSL_CTX_free(context)
    }

    /// Runs a tool to completion, waiting through its termination handler.
    private func run(_ tool: String, _ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let done = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.continuation.finish() }
        try process.run()
        for await _ in done.stream {}
        guard process.terminationStatus == 0 else { throw CurlFailure(description: "\(tool) \(arguments) failed") }
    }
}
