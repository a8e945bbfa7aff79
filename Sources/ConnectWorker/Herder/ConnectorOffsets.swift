import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// KIP-875's offsets endpoints: a connector's offsets in Connect's shape
/// `{"offsets":[{"partition":{…},"offset":{…}}]}`, read from and written
/// to where each connector actually resumes.
///
/// - Source: the offset file; partition `{"table":"public.USERS"}` (or
///   `{"query":"query"}`), offset the stored position.
/// - MySQL sink: MySQL's own offsets table (the sink writes offsets with the
///   rows, exactly once, and resumes from there, not from Kafka's commits;
///   only a partition without a row there resumes at the group's commit).
/// - S3 sink: the group's committed offsets in Kafka.
///
/// A sink partition reset (a null offset, or `DELETE`) is set to where
/// `auto.offset.reset` starts it now (`earliest`: the log start), so GET
/// shows where the sink will resume rather than nothing.
struct ConnectorOffsets: Sendable {
    let context: WorkerContext

    /// The current offsets of the connector `name`.
    func read(_ name: String, config: [String: String], kind: ConnectorKind) async throws -> JSON {
        switch kind {
        case .postgresSource, .postgresCDC:
            let prefix = name + "/"
            let stored = try await offsetStore(config, kind: kind).all().filter { $0.key.hasPrefix(prefix) }
            return Self.body(
                stored.keys.sorted().map { key in
                    (Self.sourcePartition(String(key.dropFirst(prefix.count))), stored[key]!)
                })
        case .mysqlSink:
            let sink = try MySQLSinkConfig(properties: config)
            let stored = try await withWriter(sink) { writer in try await writer.storedOffsets() }
            let admin = try KafkaAdmin(configuration: context.consumerConfiguration)
            let others = try await SinkPartitions.existing(topics: sink.topics, topicsRegex: sink.topicsRegex, admin: admin)
                .filter { stored[$0] == nil }
            let committed = try await admin.committedOffsets(
                group: sink.groupID, partitions: others.sorted(), configuration: context.consumerConfiguration)
            return Self.sinkBody(stored.merging(committed) { mysql, _ in mysql })
        case .s3Sink:
            let sink = try S3SinkConfig(properties: config)
            return Self.sinkBody(try await committed(group: sink.groupID, topics: sink.topics))
        }
    }

    /// Alters (`PATCH`, `body` given) or resets (`DELETE`, `body` nil) the
    /// offsets of the stopped connector `name`, answering Connect's message.
    func alter(_ name: String, config: [String: String], kind: ConnectorKind, body: JSON?) async throws -> JSON {
        let done = JSON.object([
            ("message", .string("The offsets for this connector have been \(body == nil ? "reset" : "altered") successfully"))
        ])
        switch kind {
        case .postgresCDC:
            throw ConnectRestError.badRequest(
                "Altering or resetting the offsets of the PostgreSQL CDC source is not supported: its position must match "
                    + "its replication slot's, and a source without offsets refuses a slot it did not create; "
                    + "delete the connector, drop its slot, and create it again to snapshot afresh")
        case .postgresSource:
            let prefix = name + "/"
            guard let body else {
                try await offsetStore(config, kind: kind).alter { offsets in offsets = offsets.filter { !$0.key.hasPrefix(prefix) } }
                return done
            }
            let changes = try Self.sourceChanges(body, prefix: prefix)
            try await offsetStore(config, kind: kind).alter { offsets in
                for (key, offset) in changes { offsets[key] = offset }
            }
            return done
        case .mysqlSink:
            let sink = try MySQLSinkConfig(properties: config)
            let targets = try await sinkTargets(body, topics: sink.topics, topicsRegex: sink.topicsRegex, config: config)
            try await withWriter(sink) { writer in try await writer.replaceStoredOffsets(targets) }
            context.logger.notice("connector \(name): MySQL offsets set to \(Self.shown(targets))")
            return done
        case .s3Sink:
            let sink = try S3SinkConfig(properties: config)
            let targets = try await sinkTargets(body, topics: sink.topics, topicsRegex: nil, config: config)
            let committed = try await committed(group: sink.groupID, topics: sink.topics)
            try await S3ResumeCheck.verify(targets, committed: committed, config: sink)
            try await GroupOffsetCommit.commit(
                targets, group: sink.groupID, configuration: context.consumerConfiguration, logger: context.logger)
            context.logger.notice("connector \(name): committed offsets set to \(Self.shown(targets))")
            return done
        }
    }

    /// The sink offsets a request sets: the body's, or every partition reset.
    private func sinkTargets(
        _ body: JSON?, topics: [String], topicsRegex: String?, config: [String: String]
    ) async throws -> [TopicPartition: Int64] {
        let admin = try KafkaAdmin(configuration: context.consumerConfiguration)
        let changes: SinkOffsetChanges
        if let body {
            changes = try SinkOffsetChanges(body: body)
        } else {
            let partitions = try await SinkPartitions.existing(topics: topics, topicsRegex: topicsRegex, admin: admin)
            changes = SinkOffsetChanges(resetting: partitions.sorted())
        }
        let policy = config["consumer.override.auto.offset.reset"] ?? context.consumerProperties["auto.offset.reset"]
            ?? KafkaConsumer.defaultProperties["auto.offset.reset"]!
        return try await changes.targets(topics: topics, topicsRegex: topicsRegex, resetPolicy: policy, admin: admin)
    }

    /// The group's committed offsets for every partition of `topics`.
    private func committed(group: String, topics: [String]) async throws -> [TopicPartition: Int64] {
        let consumer = context.consumerConfiguration
        let admin = try KafkaAdmin(configuration: consumer)
        let partitions = try await SinkPartitions.existing(topics: topics, topicsRegex: nil, admin: admin)
        return try await admin.committedOffsets(group: group, partitions: partitions.sorted(), configuration: consumer)
            .filter { $0.value >= 0 }
    }

    /// Runs `body` on a writer of its own, closed afterwards.
    private func withWriter<T: Sendable>(_ sink: MySQLSinkConfig, _ body: (MySQLRecordWriter) async throws -> T) async throws -> T {
        let writer = MySQLRecordWriter(config: sink, logger: context.logger)
        do {
            let result = try await body(writer)
            await writer.close()
            return result
        } catch {
            await writer.close()
            throw error
        }
    }

    private static func shown(_ offsets: [TopicPartition: Int64]) -> String {
        offsets.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", ")
    }

    private func offsetStore(_ config: [String: String], kind: ConnectorKind) throws -> any WorkerOffsetStore {
        if let file = try kind.sourceOffsetFile(config) {
            return FileOffsetStore(path: file)
        }
        guard let shared = context.sharedOffsetStore else {
            throw PipelineError.other("this worker has no offset file (offset.storage.file.filename)")
        }
        return shared
    }

    /// `public.USERS` → `{"table":"public.USERS"}`; `query` → `{"query":"query"}`.
    static func sourcePartition(_ suffix: String) -> JSON {
        suffix == "query" ? .object([("query", .string("query"))]) : .object([("table", .string(suffix))])
    }

    /// The offset-file keys and values a PATCH body sets; a null offset removes one.
    static func sourceChanges(_ body: JSON, prefix: String) throws -> [(String, JSON?)] {
        guard case .array(let entries)? = body["offsets"] else {
            throw ConnectRestError.badRequest("The request body must be {\"offsets\": [{\"partition\": {…}, \"offset\": {…}}]}")
        }
        return try entries.map { entry in
            guard let partition = entry["partition"], let table = partition["table"]?.stringValue ?? partition["query"]?.stringValue else {
                throw ConnectRestError.badRequest("Each source partition must be {\"table\": \"schema.table\"} or {\"query\": \"query\"}, got \(entry["partition"]?.text ?? "none")")
            }
            switch entry["offset"] {
            case .null?, nil: return (prefix + table, nil)
            case .object(let members)?:
                guard members.contains(where: { $0.0 == "incrementing" || $0.0 == "timestamp" }) else {
                    throw ConnectRestError.badRequest("A source offset takes \"incrementing\" and/or \"timestamp\", got \(entry["offset"]!.text)")
                }
                return (prefix + table, .object(members))
            default:
                throw ConnectRestError.badRequest("A source offset must be an object or null")
            }
        }
    }

    static func body(_ pairs: [(JSON, JSON)]) -> JSON {
        .object([("offsets", .array(pairs.map { .object([("partition", $0.0), ("offset", $0.1)]) }))])
    }

    static func sinkBody(_ offsets: [TopicPartition: Int64]) -> JSON {
        let sorted = offsets.keys.sorted()
        return body(
            sorted.map { tp in
                (
                    .object([("kafka_topic", .string(tp.topic)), ("kafka_partition", .int(Int64(tp.partition)))]),
                    .object([("kafka_offset", .int(offsets[tp]!))])
                )
            })
    }
}
