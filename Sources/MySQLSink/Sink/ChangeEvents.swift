import PipelineCore

/// Debezium's `io.debezium.transforms.ExtractNewRecordState` (usually
/// configured as `transforms=unwrap`), as teams put it in front of
/// Confluent's JDBC sink: change events become their new row state.
public struct ExtractNewRecordState: Sendable, Equatable {
    /// The transform's `delete.handling.mode`.
    public enum DeleteHandling: String, Sendable, CaseIterable {
        /// Delete events are dropped (their tombstones still delete, unless dropped too).
        case drop
        /// The delete becomes a tombstone: with `delete.enabled` the row is deleted.
        case none
        /// The old row is written with `__deleted` = `true` (other events get `false`).
        case rewrite
    }

    /// `drop.tombstones` (Debezium's default: true).
    public var dropTombstones = true
    public var deleteHandling = DeleteHandling.drop

    public init(dropTombstones: Bool = true, deleteHandling: DeleteHandling = .drop) {
        self.dropTombstones = dropTombstones
        self.deleteHandling = deleteHandling
    }

    /// The transform class this sink implements.
    public static let className = "io.debezium.transforms.ExtractNewRecordState"
}

/// What the sink does with a record that is a Debezium change event (or,
/// with ``ExtractNewRecordState``, a tombstone).
///
/// Change events (a value schema named `….Envelope` with `op`, `before`
/// and `after`) are applied without a transform too: `c`, `r` and `u`
/// write `after` (upsert it with `insert.mode=upsert`, `pk.mode=record_key`);
/// `d` deletes the key's row when `delete.enabled=true` and is skipped
/// otherwise; `t` (truncate) empties the table with `truncate.enabled=true`
/// and is skipped with a warning otherwise.
/// `after` may lack columns (an unchanged TOAST value the source left out):
/// the upsert then leaves them as they are.
enum ChangeEventAction {
    /// Write this value instead of the record's.
    case write(SchemaAndValue)
    /// Delete the row of the record's key.
    case delete
    /// Delete every row of the record's table.
    case truncate
    /// Nothing to write; the offset still advances.
    case skip(reason: String)
}

extension ChangeEventAction {
    /// True when `schema` is a Debezium change-event envelope.
    static func isEnvelope(_ schema: Schema?) -> Bool {
        guard let schema, schema.type == .struct, schema.name?.hasSuffix(".Envelope") == true else { return false }
        return ["op", "before", "after"].allSatisfy { schema.field(named: $0) != nil }
    }

    /// The action for `value` (nil: not a change event, handle it as any record).
    static func of(_ value: SchemaAndValue?, transform: ExtractNewRecordState?, deleteEnabled: Bool, truncateEnabled: Bool = false) -> ChangeEventAction? {
        guard let value else {
            if let transform, transform.dropTombstones { return .skip(reason: "tombstone dropped (drop.tombstones=true)") }
            return nil
        }
        guard isEnvelope(value.schema), let schema = value.schema, case .string(let op)? = value.value[field: "op"] else { return nil }
        let rewrite = transform?.deleteHandling == .rewrite
        switch op {
        case "c", "r", "u":
            return row("after", of: value, schema: schema, deleted: rewrite ? "false" : nil).map(ChangeEventAction.write)
                ?? .skip(reason: "a '\(op)' event without 'after'")
        case "d":
            switch transform?.deleteHandling {
            case .drop?: return .skip(reason: "delete dropped (delete.handling.mode=drop)")
            case .rewrite?: return row("before", of: value, schema: schema, deleted: "true").map(ChangeEventAction.write) ?? .skip(reason: "a delete without 'before'")
            case .none?, nil: return deleteEnabled ? .delete : .skip(reason: "delete skipped (delete.enabled=false)")
            }
        case "t":
            return truncateEnabled ? .truncate : .skip(reason: "truncate events are not applied (truncate.enabled=false)")
        default:
            return .skip(reason: "'\(op)' events are not applied")
        }
    }

    /// The `before` or `after` struct, with `__deleted` added for `delete.handling.mode=rewrite`.
    private static func row(_ name: String, of value: SchemaAndValue, schema: Schema, deleted: String?) -> SchemaAndValue? {
        guard let field = schema.field(named: name), case .struct(var values)? = value.value[field: name] else { return nil }
        var rowSchema = field.schema
        rowSchema.optional = false
        if let deleted {
            rowSchema.fields.append(Field("__deleted", Schema.string.asOptional))
            values.append(NamedValue("__deleted", .string(deleted)))
        }
        return SchemaAndValue(schema: rowSchema, value: .struct(values))
    }
}
