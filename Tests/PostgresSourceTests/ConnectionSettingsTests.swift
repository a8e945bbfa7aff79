import PipelineCore
import XCTest

@testable import PostgresSource

final class ConnectionSettingsTests: XCTestCase {
    func testJDBCURL() throws {
        let settings = try ConnectionSettings(
            url: "jdbc:postgresql://db.example:6543/sales?user=alice&password=s3cr%3Dt&sslmode=require&ApplicationName=etl&reWriteBatchedInserts=true")
        XCTAssertEqual(settings.parameters["host"], "db.example")
        XCTAssertEqual(settings.parameters["port"], "6543")
        XCTAssertEqual(settings.parameters["dbname"], "sales")
        XCTAssertEqual(settings.parameters["user"], "alice")
        XCTAssertEqual(settings.parameters["sslmode"], "require")
        XCTAssertEqual(settings.parameters["application_name"], "etl")
        XCTAssertEqual(settings.password?.value, "s3cr=t")
        XCTAssertEqual(settings.ignoredParameters, ["reWriteBatchedInserts"])
        XCTAssertFalse(settings.description.contains("s3cr"))
        XCTAssertEqual(settings.target, "db.example:6543/sales as alice")
    }

    func testJDBCFormsWithoutHostAndMultiHost() throws {
        XCTAssertEqual(try ConnectionSettings(url: "jdbc:postgresql:inventory").parameters["dbname"], "inventory")
        let multi = try ConnectionSettings(url: "jdbc:postgresql://a:1,[::1]:2,c/db?targetServerType=primary")
        XCTAssertEqual(multi.parameters["host"], "a,::1,c")
        XCTAssertEqual(multi.parameters["port"], "1,2,")
        XCTAssertEqual(multi.parameters["target_session_attrs"], "primary")
        let ssl = try ConnectionSettings(url: "jdbc:postgresql://h/db?ssl=true")
        XCTAssertEqual(ssl.parameters["sslmode"], "verify-full")
    }

    func testLibpqURL() throws {
        let settings = try ConnectionSettings(url: "postgresql://bob:p%40ss@127.0.0.1:5433/app?sslmode=disable&connect_timeout=3")
        XCTAssertEqual(settings.parameters["user"], "bob")
        XCTAssertEqual(settings.password?.value, "p@ss")
        XCTAssertEqual(settings.parameters["host"], "127.0.0.1")
        XCTAssertEqual(settings.parameters["port"], "5433")
        XCTAssertEqual(settings.parameters["dbname"], "app")
        XCTAssertEqual(settings.parameters["sslmode"], "disable")
        XCTAssertEqual(settings.parameters["connect_timeout"], "3")
        XCTAssertFalse(settings.description.contains("p@ss"))
    }

    func testExplicitUserAndPasswordWin() throws {
        let settings = try ConnectionSettings(url: "postgres://bob:old@h/db", user: "carol", password: Secret("new-one"))
        XCTAssertEqual(settings.parameters["user"], "carol")
        XCTAssertEqual(settings.password?.value, "new-one")
    }

    func testBadURLErrorHidesPassword() {
        XCTAssertThrowsError(try ConnectionSettings(url: "mysql://root:hunter22@h/db?password=hunter33")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("connection.url"), text)
            XCTAssertFalse(text.contains("hunter22") || text.contains("hunter33"), text)
        }
        XCTAssertThrowsError(try ConnectionSettings(url: "jdbc:postgresql://h:notaport/db"))
    }

    func testQuoting() {
        XCTAssertEqual(SQL.quote("USERS"), "\"USERS\"")
        XCTAssertEqual(SQL.quote("we\"ird"), "\"we\"\"ird\"")
        XCTAssertEqual(TableName(schema: "s", "t\"x").quoted, "\"s\".\"t\"\"x\"")
        XCTAssertEqual(SQL.literal("it's"), "'it''s'")
    }
}
