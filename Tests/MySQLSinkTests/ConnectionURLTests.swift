import MySQLSink
import PipelineCore
import XCTest

/// `connection.url` parsing: JDBC and plain URLs, credentials, TLS pass-through.
final class ConnectionURLTests: XCTestCase {
    func testJDBCURLWithQueryCredentials() throws {
        let options = try MySQLConnectionOptions(url: "jdbc:mysql://db.example:3307/TEST?user=alice&password=s%40cret&useUnicode=true")
        XCTAssertEqual(options.host, "db.example")
        XCTAssertEqual(options.port, 3307)
        XCTAssertEqual(options.database, "TEST")
        XCTAssertEqual(options.user, "alice")
        XCTAssertEqual(options.password.value, "s@cret")
        XCTAssertEqual(options.tls.mode, .disabled)
    }

    func testPlainURLAndConfigCredentialsWin() throws {
        let options = try MySQLConnectionOptions(
            url: "mysql://bob:pw@127.0.0.1:6033/app", user: "carol", password: Secret("other"))
        XCTAssertEqual(options.user, "carol")
        XCTAssertEqual(options.password.value, "other")
        XCTAssertEqual(options.port, 6033)
        XCTAssertEqual(options.database, "app")
        XCTAssertFalse(options.description.contains("other"))
    }

    func testDefaultsAndIPv6() throws {
        let options = try MySQLConnectionOptions(url: "jdbc:mariadb://[::1]/x")
        XCTAssertEqual(options.host, "::1")
        XCTAssertEqual(options.port, 3306)
    }

    func testTLSParametersPassThrough() throws {
        let options = try MySQLConnectionOptions(
            url: "jdbc:mysql://h/db?sslMode=VERIFY_IDENTITY&sslCa=/etc/ca.pem&sslCert=/c.pem&sslKey=/k.pem&enabledTLSProtocols=TLSv1.3")
        XCTAssertEqual(options.tls.mode, .verifyIdentity)
        XCTAssertEqual(options.tls.ca, "/etc/ca.pem")
        XCTAssertEqual(options.tls.cert, "/c.pem")
        XCTAssertEqual(options.tls.key, "/k.pem")
        XCTAssertEqual(options.tls.versions, "TLSv1.3")
        XCTAssertEqual(try MySQLConnectionOptions(url: "jdbc:mysql://h/db?useSSL=true").tls.mode, .required)
        XCTAssertEqual(try MySQLConnectionOptions(url: "jdbc:mariadb://h/db?sslMode=verify-full").tls.mode, .verifyIdentity)
    }

    func testUnknownParameterAndBadURLsAreErrorsWithoutPassword() {
        for url in ["jdbc:mysql://u:hunter2@h/db?frobnicate=1", "postgres://u:hunter2@h/db", "jdbc:mysql://u:hunter2@h:99999/db"] {
            XCTAssertThrowsError(try MySQLConnectionOptions(url: url)) { error in
                let text = "\(error)"
                XCTAssertFalse(text.contains("hunter2"), text)
                XCTAssertTrue(text.contains("connection.url"), text)
            }
        }
    }
}
