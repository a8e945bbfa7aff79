import ConnectWorker
import Foundation
import XCTest

final class ListenerTests: XCTestCase {
    func testParsesLoopbackAndHTTPS() throws {
        XCTAssertEqual(try Listener.parse("http://localhost:8083"), Listener(host: "127.0.0.1", port: 8083))
        XCTAssertEqual(try Listener.parse(" http://0.0.0.0:9000 "), Listener(host: "0.0.0.0", port: 9000))
        XCTAssertEqual(try Listener.parse("https://127.0.0.1:8443"), Listener(host: "127.0.0.1", port: 8443, secure: true))
        XCTAssertEqual(try Listener.parse("https://127.0.0.1:8443").description, "https://127.0.0.1:8443")
        XCTAssertThrowsError(try Listener.parse("ftp://127.0.0.1:21")) { XCTAssertTrue("\($0)".contains("expected http")) }
        XCTAssertThrowsError(try Listener.parse("http://:8083")) { XCTAssertTrue("\($0)".contains("names no host")) }
        XCTAssertThrowsError(try Listener.parse("http://127.0.0.1")) { XCTAssertTrue("\($0)".contains("port")) }
    }

    /// Connect's `listeners.https.ssl.*` keys in a worker file; only a PEM keystore.
    func testWorkerFileHTTPSKeys() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("https-\(UInt32.random(in: 0...UInt32.max)).properties")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            """
            listeners=https://127.0.0.1:8443
            listeners.https.ssl.keystore.location=/etc/tributary/chain.pem
            listeners.https.ssl.key.location=/etc/tributary/key.pem
            listeners.https.ssl.key.password=s3cret

            """.utf8
        ).write(to: file)
        let settings = try WorkerSettings.load(path: file.path)
        XCTAssertEqual(
            settings.https,
            TLSSettings(certificateChainPath: "/etc/tributary/chain.pem", privateKeyPath: "/etc/tributary/key.pem", keyPassword: "s3cret"))
        XCTAssertEqual(settings.listeners, "https://127.0.0.1:8443")
        try Data("listeners.https.ssl.keystore.type=JKS\nlisteners.https.ssl.keystore.location=/x.jks\n".utf8).write(to: file)
        XCTAssertThrowsError(try WorkerSettings.load(path: file.path)) {
            XCTAssertTrue("\($0)".contains("listeners.https.ssl.keystore.type"), "\($0)")
        }
    }
}
