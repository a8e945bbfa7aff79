// MirrorTopicToMySQL: keep a MySQL table in step with a Kafka topic, with MySQLSink alone.
//
//   . .state/services/env     # TRIBUTARY_MYSQL_URL, TRIBUTARY_BOOTSTRAP
//   swift run MirrorTopicToMySQL [--topic P_USERS] [--table users_mirror] [--name mirror-topic-to-mysql]
//
// Reads a topic of Kafka Connect JSON records (as StreamTableToKafka or Kafka
// Connect's JDBC source write them) and upserts each record into MySQL by its
// key: the table is created from the records' schema, and a row updated in
// the source is updated here, not duplicated.
//
// Exactly once: every batch is one MySQL transaction that also stores the
// Kafka offsets it covers, and on start the sink resumes from the offsets in
// MySQL. Stop it at any moment (Ctrl-C, SIGTERM, kill -9), start it again:
// no record is lost, none is written twice.

import Foundation
import MySQLSink
import PipelineCore

// MARK: - Settings from the command line and the environment

/// Parsed by hand: the example depends on MySQLSink and PipelineCore only.
struct Options {
    var topic = "P_USERS"
    /// Empty: a table named like the topic (Connect's `${topic}`).
    var table = ""
    /// The connector name; the consumer group is `connect-<name>`, as in Kafka Connect.
    var name = "mirror-topic-to-mysql"

    static let flags: Set = ["--topic", "--table", "--name"]

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard Options.flags.contains(flag) else { throw ExampleError("unknown option \(flag)") }
            guard let value = rest.popFirst() else { throw ExampleError("\(flag) needs a value") }
            switch flag {
            case "--topic": topic = value
            case "--table": table = value
            case "--name": name = value
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
    FileHandle.standardError.write(Data("MirrorTopicToMySQL: \(message)\n".utf8))
    exit(exitCode)
}

let usage = "usage: MirrorTopicToMySQL [--topic T] [--table NAME] [--name CONNECTOR]"
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

// MARK: - The sink

// Kafka Connect JDBC sink keys: the `config` of a connector JSON written for
// Connect can be passed as it is. `${env:…}` keeps the password (inside the
// URL) out of this program; unknown or unsupported keys are errors, never
// silently ignored.
var properties = [
    "name": options.name,
    "topics": options.topic,
    "connection.url": "${env:TRIBUTARY_MYSQL_URL}",
    // Upsert by the record key (the source table's primary key): a mirror,
    // not an append-only log.
    "insert.mode": "upsert",
    "pk.mode": "record_key",
    "auto.create": "true",
    // New nullable columns in the source appear here too.
    "auto.evolve": "true",
]
if !options.table.isEmpty { properties["table.name.format"] = options.table }

let sink: MySQLSink
do {
    sink = try MySQLSink(properties: properties, kafka: KafkaConfiguration(bootstrapServers: bootstrap))
} catch {
    fail("bad configuration: \(error)")
}
// The typed settings underneath the properties; printing them is safe, the
// password is never part of a description.
print("mirroring \(options.topic) into \(sink.config.connection) table \(options.table.isEmpty ? options.topic : options.table) "
    + "as group \(sink.config.groupID), \(sink.config.batchSize) records per transaction; Ctrl-C stops")

// MARK: - Run until a signal

// `run()` consumes until its task is cancelled, and treats cancellation as a
// graceful stop: the batch in hand is committed, then it returns. So stopping
// on a signal is: catch SIGINT/SIGTERM, cancel the task. (Inside a
// swift-service-lifecycle ServiceGroup, wrap `sink.run` in PipelineCore's
// `StageService` instead; the group then does this.)
let work = Task { try await sink.run() }
let signals = cancelOnTerminationSignals(work, notice: "stopping: committing the batch in hand (signal again to quit now)")

// The sink counts what it wrote in `throughput`; show it now and then.
let progress = Task {
    var lastTotal: Int64 = 0
    _ = sink.throughput.report()  // starts the clock of the first "now" rate
    while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(2))
        let report = sink.throughput.report()
        if report.total != lastTotal {
            print("written \(report.total) records, \(Int(report.recentPerSecond)) records/s now")
            lastTotal = report.total
        }
    }
}

do {
    try await work.value
} catch {
    // E.g. a record that does not fit the table: the error names its topic,
    // partition and offset (set errors.tolerance=all and a dead-letter topic
    // to divert such records instead of stopping).
    progress.cancel()
    fail("stopped: \(error)")
}
progress.cancel()
print("stopped after \(sink.throughput.total) records; the next run resumes from the offsets stored in MySQL")
withExtendedLifetime(signals) {}
