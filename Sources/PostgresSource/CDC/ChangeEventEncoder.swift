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

/// What every table's change events share: the connector's names, its
/// converter settings and the Debezium schemas of `source` and
/// `transaction`. ``writer(for:)`` compiles a table's writer
/// (``ChangeEventWriter``) from them.
///
/// The events are Debezium's PostgreSQL change events, as Connect's
/// JsonConverter writes them:
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
    /// `key.converter.schemas.enable` and `value.converter.schemas.enable`.
    let keySchemasEnabled: Bool
    let valueSchemasEnabled: Bool
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

    /// The compiled writer of `table`'s events (made once per Relation message).
    func writer(for table: CapturedTable) -> ChangeEventWriter {
        ChangeEventWriter(table, self)
    }

    /// Wall-clock milliseconds since the epoch.
    static func nowMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000)
    }
}
