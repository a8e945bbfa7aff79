import MySQLSink
import PipelineCore
import XCTest

/// The MariaDB server the tests use: `TRIBUTARY_MYSQL_URL` from
/// `scripts/services.sh env`. A missing variable fails the test: a skipped
/// database test proves nothing.
struct MySQLTestEnvironment {
    let url: String
    let options: MySQLConnectionOptions

    static func load() throws -> MySQLTestEnvironment {
        guard let url = ProcessEnvironment.get("TRIBUTARY_MYSQL_URL"), !url.isEmpty else {
            throw TestEnvironmentError("TRIBUTARY_MYSQL_URL is not set; run `eval \"$(scripts/services.sh env)\"` first")
        }
        return MySQLTestEnvironment(url: url, options: try MySQLConnectionOptions(url: url))
    }

    /// A fresh, empty database for one test, dropped by `dropDatabase`.
    func freshDatabase(_ label: String = #function) async throws -> (name: String, options: MySQLConnectionOptions) {
        let name = "t_" + label.filter { $0.isLetter || $0.isNumber }.prefix(30).lowercased() + "_" + Self.randomSuffix()
        let admin = MySQLConnection(options: options)
        try await admin.execute("CREATE DATABASE `\(name)`")
        await admin.close()
        var scoped = options
        scoped.database = name
        return (name, scoped)
    }

    func dropDatabase(_ name: String) async {
        let admin = MySQLConnection(options: options)
        _ = try? await admin.execute("DROP DATABASE IF EXISTS `\(name)`")
        await admin.close()
    }

    static func randomSuffix() -> String {
        String(UInt64.random(in: 0..<UInt64.max), radix: 36)
    }
}

struct TestEnvironmentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
