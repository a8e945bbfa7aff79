#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PipelineCore

/// A row change as captured, before it is written as Debezium events.
enum CapturedChange: Sendable {
    /// A snapshot row (op `r`).
    case read([TupleValue])
    case insert([TupleValue])
    /// `old`: the old key or row when pgoutput sent one (key change, REPLICA IDENTITY FULL).
    case update(old: [TupleValue]?, new: [TupleValue])
    case delete(old: [TupleValue])
    case truncate

    /// The event's `op` as `skipped.operations` names it (an update that changes the key counts as `u`).
    var operation: String {
        switch self {
        case .read: "r"
        case .insert: "c"
        case .update: "u"
        case .delete: "d"
        case .truncate: "t"
        }
    }
}

/// Where a change comes from, for the event's `source` block.
struct ChangeOrigin: Sendable {
    /// The change's WAL position (the slot's consistent point for snapshot rows).
    var lsn: LSN?
    var txId: UInt32?
    /// Commit time (snapshot start for snapshot rows), ms since the epoch.
    var commitMillis: Int64
    /// `true`, `last` or `false`, as Debezium marks snapshot rows.
    var snapshot: String = "false"
}

/// Writes captured changes as Debezium's PostgreSQL change events, encoded
/// with Connect's JsonConverter:
/// - key: the primary key struct (`<prefix>.<schema>.<table>.Key`), or none;
/// - value: the envelope `<prefix>.<schema>.<table>.Envelope` with `before`,
///   `after`, `source` (`io.debezium.connector.postgresql.Source`), `op`
///   (`r`, `c`, `u`, `d`, `t`), `ts_ms` and `transaction`;
/// - a delete is followed by a tombstone (null value) when `tombstones.on.delete`;
/// - an update that changes the key is a delete of the old key (and its
///   tombstone) then a create of the new one, as Debezium writes it.
///
/// Unchanged TOAST values: pgoutput does not send a TOASTed value an update
/// left alone. Debezium writes the placeholder `__debezium_unavailable_value`
/// in its place, which a sink then writes over the real data. Here the
/// column is left out of that event's `after` struct and of its schema: a
/// sink that writes the fields present (the MySQL sink's upsert does) leaves
/// the column as it is.
struct ChangeEventEncoder: Sendable {
    let serverName: String
    let database: String
    let tombstones: Bool
    let keyConverter: JsonConverter
    let valueConverter: JsonConverter
    /// The event's `ts_ms` (when it was processed); wall-clock milliseconds.
    var now: @Sendable () -> Int64 = ChangeEventEncoder.nowMillis

    static let version = "2.5.0.Final-tributary"

    static let sourceSchema = Schema.struct("io.debezium.connector.postgresql.Source", [
        Field("version", .string), Field("connector", .string), Field("name", .string), Field("ts_ms", .int64),
        Field("snapshot", Schema(type: .string, optional: true, name: "io.debezium.data.Enum", version: 1,
                                 parameters: ["allowed": "true,last,false,incremental"], defaultValue: .string("false"))),
        Field("db", .string), Field("sequence", Schema.string.asOptional), Field("schema", .string), Field("table", .string),
        Field("txId", Schema.int64.asOptional), Field("lsn", Schema.int64.asOptional), Field("xmin", Schema.int64.asOptional),
    ])

    static let transactionSchema = Schema.struct("event.block", [
        Field("id", .string), Field("total_order", .int64), Field("data_collection_order", .int64),
    ], optional: true)

    /// The messages for `change` of `table`, in order.
    func messages(_ change: CapturedChange, of table: CapturedTable, origin: ChangeOrigin) throws -> [KafkaMessage] {
        switch change {
        case .read(let new): return [try event("r", table, before: nil, after: new, key: table.key(new), origin)]
        case .insert(let new): return [try event("c", table, before: nil, after: new, key: table.key(new), origin)]
        case .update(let old, let new):
            let newKey = try table.key(new)
            if let old, let oldKey = try? table.key(old), oldKey != newKey {
                return try deleted(table, old: old, key: oldKey, origin) + [try event("c", table, before: nil, after: new, key: newKey, origin)]
            }
            return [try event("u", table, before: old, after: new, key: newKey, origin)]
        case .delete(let old):
            return try deleted(table, old: old, key: try table.key(old), origin)
        case .truncate:
            return [try event("t", table, before: nil, after: nil, key: nil, origin)]
        }
    }

    private func deleted(_ table: CapturedTable, old: [TupleValue], key: SchemaAndValue?, _ origin: ChangeOrigin) throws -> [KafkaMessage] {
        var out = [try event("d", table, before: old, after: nil, key: key, origin)]
        if tombstones { out.append(KafkaMessage(topic: table.topic, key: out[0].key, value: nil)) }
        return out
    }

    private func event(_ op: String, _ table: CapturedTable, before: [TupleValue]?, after: [TupleValue]?, key: SchemaAndValue?, _ origin: ChangeOrigin) throws -> KafkaMessage {
        let full = Schema.struct("\(table.schemaPrefix).Value", table.columns.map { Field($0.name, $0.schema) }, optional: true)
        let beforeRow = try before.map(table.row)
        let afterRow = try after.map(table.row)
        let source: [NamedValue] = [
            NamedValue("version", .string(ChangeEventEncoder.version)), NamedValue("connector", .string("postgresql")),
            NamedValue("name", .string(serverName)), NamedValue("ts_ms", .int(origin.commitMillis)),
            NamedValue("snapshot", .string(origin.snapshot)), NamedValue("db", .string(database)), NamedValue("sequence", .null),
            NamedValue("schema", .string(table.relation.namespace)), NamedValue("table", .string(table.relation.name)),
            NamedValue("txId", origin.txId.map { .int(Int64($0)) } ?? .null),
            NamedValue("lsn", origin.lsn.map { .int(Int64(bitPattern: $0.value)) } ?? .null), NamedValue("xmin", .null),
        ]
        let schema = Schema.struct("\(table.schemaPrefix).Envelope", [
            Field("before", beforeRow?.0 ?? full), Field("after", afterRow?.0 ?? full), Field("source", ChangeEventEncoder.sourceSchema),
            Field("op", .string), Field("ts_ms", Schema.int64.asOptional), Field("transaction", ChangeEventEncoder.transactionSchema),
        ])
        let value = Value.struct([
            NamedValue("before", beforeRow?.1 ?? .null), NamedValue("after", afterRow?.1 ?? .null), NamedValue("source", .struct(source)),
            NamedValue("op", .string(op)), NamedValue("ts_ms", .int(now())), NamedValue("transaction", .null),
        ])
        return KafkaMessage(
            topic: table.topic, key: try keyConverter.encode(key),
            value: try valueConverter.encode(SchemaAndValue(schema: schema, value: value)))
    }

    /// Wall-clock milliseconds since the epoch.
    static func nowMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000)
    }
}
