// ArchiveTopicToS3: a Swift service that archives its own Kafka topic to S3, with S3Sink alone.
//
//   . .state/services/env     # TRIBUTARY_BOOTSTRAP, TRIBUTARY_S3_*, AWS_*
//   swift run ArchiveTopicToS3 [--topic app-events] [--rate 200] [--name archive-app-events]
//
// The service publishes its own events (here: made-up user activity, --rate
// per second; --rate 0 publishes nothing and only archives) to a topic, and
// archives that topic to S3 as JSON-lines objects laid out by event hour, the
// way Confluent's S3 sink would write them:
//
//   topics/app-events/dt=2025-01-01/hour=13/app-events+0+0000000000.json
//
// Exactly once: an object is named by topic, partition and first offset, and
// the consumer offsets are committed only after the object is uploaded, so a
// crash or restart uploads the same object again rather than a duplicate.
// On Ctrl-C/SIGTERM the open (not yet full) objects are dropped, not
// uploaded half-way: their events are archived by the next run.

import Foundation
import PipelineCore
import S3Sink

// MARK: - Settings from the command line and the environment

/// Parsed by hand: the example depends on S3Sink and PipelineCore only.
struct Options {
    var topic = "app-events"
    var eventsPerSecond = 200
    /// The connector name; the consumer group is `connect-<name>`, as in Kafka Connect.
    var name = "archive-app-events"

    static let flags: Set = ["--topic", "--name", "--rate"]

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard Options.flags.contains(flag) else { throw ExampleError("unknown option \(flag)") }
            guard let value = rest.popFirst() else { throw ExampleError("\(flag) needs a value") }
            switch flag {
            case "--topic": topic = value
            case "--name": name = value
            case "--rate":
                guard let rate = Int(value), rate >= 0 else { throw ExampleError("--rate expects events per second, got '\(value)'") }
                eventsPerSecond = rate
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
    FileHandle.standardError.write(Data("ArchiveTopicToS3: \(message)\n".utf8))
    exit(exitCode)
}

let usage = "usage: ArchiveTopicToS3 [--topic T] [--rate EVENTS_PER_SECOND] [--name CONNECTOR]"
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
let kafka = KafkaConfiguration(bootstrapServers: bootstrap)

// MARK: - The archiver

// Confluent S3 sink connector keys, so a connector JSON written for Kafka
// Connect works unchanged. `${env:…}` is resolved when the config is read;
// the credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (never
// from this program, never printed).
let sink: S3SinkConnector
do {
    sink = try S3SinkConnector(
        properties: [
            "name": options.name,
            "topics": options.topic,
            "s3.bucket.name": "${env:TRIBUTARY_S3_BUCKET}",
            "s3.region": "${env:AWS_REGION}",
            "store.url": "${env:TRIBUTARY_S3_ENDPOINT}",  // leave out for AWS itself
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            // One directory per hour of event time (the Kafka record timestamp),
            // so a query engine can prune by date.
            "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            "path.format": "'dt'=YYYY-MM-dd/'hour'=HH",
            "partition.duration.ms": "3600000",
            "timestamp.extractor": "Record",
            "timezone": "UTC",
            // An object holds at most 1,000 events, or what arrived in 10 s of
            // wall-clock time: a quiet service still gets its events into S3 soon.
            "flush.size": "1000",
            "rotate.schedule.interval.ms": "10000",
        ],
        kafka: kafka)
} catch {
    fail("bad configuration: \(error)")
}
// The typed configuration underneath; its fields are plain Swift values.
print("archiving \(options.topic) to s3://\(sink.config.bucket)/\(sink.config.naming.topicsDir)/\(options.topic)/ "
    + "(\(sink.config.rotation.flushSize) events per object at most); Ctrl-C stops")

// MARK: - The service's own events

/// One activity event, as a Kafka Connect JSON record: the schema travels with
/// each record, so the archive is self-describing and any Connect sink
/// (ours, or Confluent's) can read the topic too.
enum ActivityEvent {
    static let schema = Schema.struct("app.ActivityEvent", [
        Field("id", .int64),
        Field("user", .string),
        Field("action", .string),
        Field("at", LogicalType.timestamp()),
    ])
    static let actions = ["login", "view", "search", "add_to_cart", "checkout", "logout"]
    static let converter = JsonConverter(schemasEnabled: true)

    static func message(topic: String, id: Int64, nowMilliseconds: Int64) throws -> KafkaMessage {
        let user = "user-\(id % 97)"
        let value = Value.struct([
            NamedValue("id", .int(id)),
            NamedValue("user", .string(user)),
            NamedValue("action", .string(actions[Int(id % Int64(actions.count))])),
            NamedValue("at", .timestamp(nowMilliseconds)),
        ])
        // Keyed by user: one user's events stay in order on one partition.
        return KafkaMessage(
            topic: topic,
            key: try converter.encode(SchemaAndValue(schema: .string, value: .string(user))),
            value: try converter.encode(SchemaAndValue(schema: schema, value: value)),
            timestamp: nowMilliseconds)
    }
}

/// Publishes `perSecond` events a second, in batches of a tenth of a second,
/// until cancelled. `send` returns once the broker acknowledged the batch.
func publishEvents(_ producer: KafkaProducer, topic: String, perSecond: Int, published: Throughput) async throws {
    guard perSecond > 0 else { return }
    let tick = Duration.milliseconds(100)
    let perTick = max(1, perSecond / 10)
    var nextID = Int64(Date().timeIntervalSince1970 * 1000) * 1000  // unique across runs, without storing state
    let clock = ContinuousClock()
    var deadline = clock.now
    while !Task.isCancelled {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var batch: [KafkaMessage] = []
        for _ in 0..<perTick {
            batch.append(try ActivityEvent.message(topic: topic, id: nextID, nowMilliseconds: now))
            nextID += 1
        }
        _ = try await producer.send(batch)
        published.add(batch.count)
        deadline += tick
        try await clock.sleep(until: deadline)
    }
}

let producer: KafkaProducer
do {
    producer = try KafkaProducer(configuration: kafka)
} catch {
    fail("cannot create the Kafka producer: \(error)")
}
let published = Throughput(name: "published")

// MARK: - Run both until a signal

// The sink's `run()` consumes until its task is cancelled and treats
// cancellation as a graceful stop; the publisher stops the same way. So
// stopping on a signal is: catch SIGINT/SIGTERM, cancel the task that runs
// both. (Inside a swift-service-lifecycle ServiceGroup, wrap `sink.run` in
// PipelineCore's `StageService` instead; the group then does this.)
let work = Task {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await sink.run() }
        group.addTask {
            do {
                try await publishEvents(producer, topic: options.topic, perSecond: options.eventsPerSecond, published: published)
            } catch is CancellationError {
                // Stopping: nothing to clean up, every sent batch was acknowledged.
            }
        }
        try await group.waitForAll()
    }
}
let signals = cancelOnTerminationSignals(work)

let progress = Task {
    while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(5))
        let stats = sink.statistics
        print("published \(published.total) events; archived \(stats.recordsWritten) into \(stats.objectsUploaded) objects")
    }
}

do {
    try await work.value
} catch {
    progress.cancel()
    work.cancel()
    await producer.close()
    fail("stopped: \(error)")
}
progress.cancel()
await producer.close()
let stats = sink.statistics
print("stopped: published \(published.total) events, \(stats.objectsUploaded) objects uploaded; "
    + "events in objects not yet complete are archived by the next run")
withExtendedLifetime(signals) {}
