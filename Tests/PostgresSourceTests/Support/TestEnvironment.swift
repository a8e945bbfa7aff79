import DataGen
import PipelineCore
import XCTest

@testable import PostgresSource

/// The servers tests run against (scripts/services.sh up; source its env).
/// A missing variable fails the test: these tests never skip.
enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not set; run scripts/services.sh up and source the env it prints" }
    }

    static func require(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let value = ProcessEnvironment.get(name), !value.isEmpty else {
            XCTFail("\(name) is not set; run scripts/services.sh up and source its env", file: file, line: line)
            throw Missing(name: name)
        }
        return value
    }

    /// TRIBUTARY_PG_URL, a libpq URL with user and password.
    static func postgresURL(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try require("TRIBUTARY_PG_URL", file: file, line: line)
    }

    static func client(name: String = "test") throws -> PostgresClient {
        PostgresClient(settings: try ConnectionSettings(url: try postgresURL()), name: name)
    }

    /// A fresh name, so tests never share tables or topics.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 36)
    }
}

/// USERS from DataGen, as the CLI wires it.
func usersTable(_ name: TableName, seed: UInt64 = UserGenerator.defaultSeed, historicUpdatedAt: Bool = false) -> GeneratedTable {
    let generator = UserGenerator(seed: seed)
    return GeneratedTable(
        name: name, keyColumn: UserTableLayout.keyColumn, columns: UserTableLayout.columns,
        insertColumns: UserTableLayout.insertColumns(historicUpdatedAt: historicUpdatedAt),
        row: { generator.row($0).columnTexts(historicUpdatedAt: historicUpdatedAt) },
        updateColumns: UserTableLayout.updateColumns,
        update: { generator.update($0, revision: $1).columnTexts })
}
