import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// KIP-875's offsets endpoints: a connector's offsets in Connect's shape
/// `{"offsets":[{"partition":{…},"offset":{…}}]}`, read from where each
/// connector actually resumes.
///
/// - Source: the offset file; partition `{"table":"public.USERS"}` (or
///   `{"query":"query"}`), offset the stored position.
/// - MySQL sink: MySQL's own offsets table (the sink writes offsets with the
///   rows, exactly once, and resumes from there, not from Kafka's commits).
/// - S3 sink: the group's committed offsets in Kafka.
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
            let writer = MySQLRecordWriter(config: try MySQLSinkConfig(properties: config), logger: context.logger)
            let offsets: [TopicPartition: Int64]
            do {
                offsets = try await writer.storedOffsets()
                await writer.close()
            } catch {
                await writer.close()
                throw error
            }
            return Self.sinkBody(offsets)
        case .s3Sink:
            let sink = try S3SinkConfig(properties: config)
            let consumer = context.consumerConfiguration
            let admin = try KafkaAdmin(configuration: consumer)
            let partitions = try await admin.topics().filter { sink.topics.contains($0.name) }.flatMap { topic in
                topic.partitions.map { TopicPartition(topic.name, $0.partition) }
            }
            let committed = try await admin.committedOffsets(
                group: ConnectorSpec.sinkGroupID(connector: name), partitions: partitions, configuration: consumer)
            return Self.sinkBody(committed.filter { $0.value >= 0 })
        }
    }

    /// Replaces source offsets (`PATCH`) or removes them all (`DELETE`, `body` nil).
    /// Sinks refuse with a 400 that says why: altering their Kafka commits
    /// would not change where they resume.
    func alter(_ name: String, config: [String: String], kind: ConnectorKind, body: JSON?) async throws -> JSON {
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
                return .object([("message", .string("The offsets for this connector have been reset successfully"))])
            }
            let changes = try Self.sourceChanges(body, prefix: prefix)
            try await offsetStore(config, kind: kind).alter { offsets in
                for (key, offset) in changes { offsets[key] = offset }
            }
            return .object([("message", .string("The offsets for this connector have been altered successfully"))])
        case .mysqlSink:
            throw ConnectRestError.badRequest(
                "Altering or resetting the offsets of a JDBC sink is not supported here: it writes its offsets with the rows "
                    + "into MySQL (table __tributary_offsets) and resumes from there "
                    + "(exactly once), so changing the consumer group's offsets in Kafka would have no effect")
        case .s3Sink:
            throw ConnectRestError.badRequest(
                "Altering or resetting the offsets of an S3 sink is not supported yet: its consumer group's committed offsets "
                    + "can be changed with Kafka's own tools while the connector is stopped")
        }
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
