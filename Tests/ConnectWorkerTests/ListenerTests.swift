import ConnectWorker
import XCTest

final class ListenerTests: XCTestCase {
    func testParsesLoopbackAndRefusesHTTPS() throws {
        XCTAssertEqual(try Listener.parse("http://localhost:8083"), Listener(host: "127.0.0.1", port: 8083))
        XCTAssertEqual(try Listener.parse(" http://0.0.0.0:9000 "), Listener(host: "0.0.0.0", port: 9000))
        XCTAssertThrowsError(try Listener.parse("https://127.0.0.1:8443")) { XCTAssertTrue("\($0)".contains("https is not supported")) }
        XCTAssertThrowsError(try Listener.parse("http://:8083")) { XCTAssertTrue("\($0)".contains("names no host")) }
        XCTAssertThrowsError(try Listener.parse("http://127.0.0.1")) { XCTAssertTrue("\($0)".contains("port")) }
    }
}
