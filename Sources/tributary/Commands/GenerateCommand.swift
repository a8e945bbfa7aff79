import ArgumentParser
import DataGen
import Foundation
import Logging
import PipelineCore
import PostgresSource

/// `tributary generate`: fake users into a Postgres table.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write deterministic fake users into a Postgres table (created when missing)."
    )

    @Option(help: "Rows to insert.") var rows: Int64 = 10_000
    @Option(help: "Rows per second (default: as fast as possible).") var rate: Double?
    @Option(help: "Seed of the generator: the same seed gives the same rows.") var seed: UInt64 = UserGenerator.defaultSeed
    @Option(help: "Table to fill.") var table = "USERS"
    @Option(help: "Fraction of inserted rows to update afterwards (bumps updated_at, for the timestamp modes).")
    var updates: Double = 0
    @Option(help: "Rows per COPY batch.") var batchSize = 10_000
    @Option(help: "Postgres URL, libpq or jdbc:postgresql:// (default: $TRIBUTARY_PG_URL).") var url: String?
    @OptionGroup var logging: LoggingOptions

    /// Usage errors (exit 64) before anything connects.
    func validate() throws {
        guard rows >= 0 else { throw ValidationError("--rows must not be negative, got \(rows)") }
        if let rate, !(rate > 0 && rate.isFinite) {
            throw ValidationError("--rate must be a positive number of rows per second, got \(rate); leave it out for full speed")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard (0...1).contains(updates) else { throw ValidationError("--updates must be between 0 and 1") }
    }

    func run() async throws {
        logging.bootstrap()
        guard let url = url ?? ProcessInfo.processInfo.environment["TRIBUTARY_PG_URL"] else {
            throw ValidationError("no Postgres: pass --url or set TRIBUTARY_PG_URL")
        }
        let client = PostgresClient(settings: try ConnectionSettings(url: url), name: "generate")
        try await client.connect()
        let writer = TableWriter(client: client, table: usersTable(TableName(table), seed: seed))
        try await writer.createTableIfMissing()
        let options = GenerateOptions(rows: rows, rowsPerSecond: rate, batchSize: batchSize, updateFraction: updates, seed: seed)
        let progressLine = ProgressLine()
        let task = Task {
            try await writer.generate(options) { progress in progressLine.show(progress, total: rows) }
        }
        // Ctrl-C stops after the batch in hand; what was committed stays.
        let signals = cancelOnTerminationSignals(task)
        let final = try await task.value
        withExtendedLifetime(signals) {}
        progressLine.finish(final)
        await client.close()
    }
}

/// USERS rows from DataGen in the layout PostgresSource's writer expects.
func usersTable(_ name: TableName, seed: UInt64) -> GeneratedTable {
    let generator = UserGenerator(seed: seed)
    return GeneratedTable(
        name: name, keyColumn: UserTableLayout.keyColumn, columns: UserTableLayout.columns,
        insertColumns: UserTableLayout.insertColumns(),
        row: { generator.row($0).columnTexts() },
        updateColumns: UserTableLayout.updateColumns,
        update: { generator.update($0, revision: $1).columnTexts })
}

/// One progress line on stderr, redrawn at most a few times a second.
final class ProgressLine: Sendable {
    private let last = Locked(Date.distantPast)

    func show(_ progress: GenerateProgress, total: Int64) {
        let due = last.withLock { last -> Bool in
            guard Date().timeIntervalSince(last) > 0.5 else { return false }
            last = Date()
            return true
        }
        guard due else { return }
        let percent = total > 0 ? Int(Double(progress.inserted) / Double(total) * 100) : 100
        FileHandle.standardError.write(Data("\rgenerate: \(progress.inserted)/\(total) rows (\(percent)%), \(progress.updated) updated, \(Int(progress.rowsPerSecond)) rows/s   ".utf8))
    }

    func finish(_ progress: GenerateProgress) {
        FileHandle.standardError.write(Data("\r".utf8))
        print("generate: inserted \(progress.inserted) rows, updated \(progress.updated), \(Int(progress.rowsPerSecond)) rows/s")
    }
}
