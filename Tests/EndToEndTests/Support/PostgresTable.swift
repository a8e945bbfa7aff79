import Foundation
import PostgresSource

/// The scenario's source table in Postgres.
struct PostgresTable: Sendable {
    let environment: E2EEnvironment
    let table: String

    /// Creates the table with `tributary generate --rows 0`, so it has exactly
    /// the layout a user gets (the seed's USERS with its `index` bigserial key).
    /// It must exist before the worker starts: the source checks its
    /// whitelist at startup.
    func create(in directory: URL) async throws {
        try await generate(rows: 0, in: directory)
    }

    /// Appends `rows` users with `tributary generate` (COPY; fast).
    func generate(rows: Int, in directory: URL) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.tributary)
        process.arguments = ["generate", "--rows", String(rows), "--table", table, "--url", environment.postgresURL]
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit && process.terminationStatus == 0 else {
            throw E2EFailure("tributary generate --rows \(rows) --table \(table) failed (\(process.terminationStatus)): \(text)")
        }
    }

    /// Every row's `index` and `email`.
    func rows() async throws -> [(index: Int64, email: String)] {
        let client = PostgresClient(settings: try ConnectionSettings(url: environment.postgresURL), name: "e2e-reader")
        let result: [[String?]]
        do {
            result = try await client.query("SELECT \"index\", \"email\" FROM \"\(table)\"")
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        return try result.map { row in
            guard row.count == 2, let index = row[0].flatMap({ Int64($0) }), let email = row[1] else {
                throw E2EFailure("unexpected Postgres row in \(table): \(row)")
            }
            return (index, email)
        }
    }

    func drop() async {
        guard let settings = try? ConnectionSettings(url: environment.postgresURL) else { return }
        let client = PostgresClient(settings: settings, name: "e2e-cleanup")
        _ = try? await client.query("DROP TABLE IF EXISTS \"\(table)\"")
        await client.close()
    }
}
