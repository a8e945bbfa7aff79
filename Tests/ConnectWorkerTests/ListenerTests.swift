import ConnectWorker
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
}
