// StreamTableToKafka: stream a Postgres table into Kafka with PostgresSource alone.
//
//   . .state/services/env            # TRIBUTARY_PG_URL, TRIBUTARY_BOOTSTRAP
//   tributary generate --rows 1000   # a USERS table to stream (or use your own)
//   swift run StreamTableToKafka [--table USERS] [--topic-prefix P_] [--column index] [--offset-file PATH]
//
// Every row of the table becomes one record on topic <prefix><table>, in
// Kafka Connect's JSON envelope, keyed by the primary key. The source keeps
// polling for new rows (incrementing mode: rows whose `index` is above the
// last one delivered) until Ctrl-C or SIGTERM; then it finishes the batch in
// hand and exits 0. Its position is stored in a local offset file only after
// the broker acknowledged the rows, so a restart continues where it stopped,
// without losing or repeating rows.

import Foundation
import PipelineCore
import PostgresSource

// MARK: - Settings from the command line and the environment

/// Parsed by hand: the example depends on PostgresSource and PipelineCore only.
struct Options {
    var table = "USERS"
    var topicPrefix = "P_"
    var incrementingColumn = "index"
    var offsetFile = ".tributary/offsets/stream-table-to-kafka.json"

    static let flags: Set = ["--table", "--topic-prefix", "--column", "--offset-file"]

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard Options.flags.contains(flag) else { throw ExampleError("unknown option \(flag)") }
            guard let value = rest.popFirst() else { throw ExampleError("\(flag) needs a value") }
            switch flag {
            case "--table": table = value
            case "--topic-prefix": topicPrefix = value
            case "--column": incrementingColumn = value
            case "--offset-file": offsetFile = value
            default: preconditionFailure("\(flag) is in `flags` but not handled")
            }
        }
    }
}

struct ExampleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func fail(_ message: String, exitCode: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("StreamTableToKafka: \(message)\n".utf8))
    exit(exitCode)
}

let usage = "usage: StreamTableToKafka [--table T] [--topic-prefix P] [--column C] [--offset-file PATH]"
// `--help` (or `-h`) anywhere: the usage on stdout, exit 0, as every command-line tool does.
if CommandLine.arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}
let options: Options
do {
    options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error)\n\(usage)", exitCode: 2)
}

guard let bootstrap = ProcessEnvironment.get("TRIBUTARY_BOOTSTRAP"), !bootstrap.isEmpty else {
    fail("TRIBUTARY_BOOTSTRAP is not set (source the file `scripts/services.sh env` prints)")
}

// MARK: - The source

// The same keys a Kafka Connect JDBC source connector JSON holds, so a config
// written for Connect works here unchanged. `${env:…}` is resolved from the
// environment when the config is read: the database password in the URL never
// appears in this program, and the config's description hides it.
var config: PostgresSourceConfig
do {
    config = try PostgresSourceConfig(properties: [
        "name": "stream-table-to-kafka",
        "connection.url": "${env:TRIBUTARY_PG_URL}",
        "mode": "incrementing",
        "incrementing.column.name": options.incrementingColumn,
        "table.whitelist": options.table,
        "topic.prefix": options.topicPrefix,
        "poll.interval.ms": "1000",
    ])
} catch {
    // Errors name the key at fault, e.g. a missing environment variable.
    fail("bad configuration: \(error)")
}
// Underneath the Connect keys sits a typed struct: settings without a Connect
// key, or computed ones, are plain Swift properties.
config.batchMaxRows = 1_000  // Connect's default of 100 rows per batch is slow for a backfill.

// The producer's `send` returns only once the broker acknowledged every
// record (acks=all, idempotent): that is what lets the source store its
// position right after, without risking loss.
let producer: KafkaProducer
do {
    producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap))
} catch {
    fail("cannot create the Kafka producer: \(error)")
}

// Counts delivered rows for the progress line; the source calls `events`
// after every acknowledged batch, on its own task, so it must stay cheap.
let delivered = Throughput(name: "delivered")
let source = PostgresSource(
    config: config, producer: producer, offsetStore: FileOffsetStore(path: options.offsetFile),
    // With the cluster's address the source can read back what it delivered
    // before a crash and not send those rows twice.
    kafka: KafkaConfiguration(bootstrapServers: bootstrap),
    events: { event in
        if case .delivered(_, _, let rows, _) = event { delivered.add(rows) }
    })

print("streaming \(options.table) to \(options.topicPrefix)\(options.table) at \(bootstrap); Ctrl-C stops")

// MARK: - Run until a signal

// `run()` polls until its task is cancelled, and treats cancellation as a
// graceful stop. So stopping on a signal is: catch SIGINT/SIGTERM, cancel the
// task. (Inside a swift-service-lifecycle ServiceGroup, wrap `source.run` in
// PipelineCore's `StageService` instead; the group then does this.)
let work = Task { try await source.run() }
let signals = cancelOnTerminationSignals(work)

let progress = Task {
    var lastTotal: Int64 = 0
    _ = delivered.report()  // starts the clock of the first "now" rate
    while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(2))
        let report = delivered.report()
        if report.total != lastTotal {
            print("delivered \(report.total) rows, \(Int(report.recentPerSecond)) rows/s now")
            lastTotal = report.total
        }
    }
}

do {
    try await work.value
} catch {
    progress.cancel()
    await producer.close()
    fail("stopped: \(error)")
}
progress.cancel()
// Waits for anything still in flight, then releases the client.
await producer.close()
print("stopped after \(delivered.total) rows; the next run resumes from \(options.offsetFile)")
withExtendedLifetime(signals) {}
