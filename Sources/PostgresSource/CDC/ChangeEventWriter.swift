import PipelineCore

/// One table's change events (see ``ChangeEventEncoder``), compiled once per
/// Relation message: the envelope's schema JSON and every member name are
/// serialized here, once, and each event's pgoutput cells are written
/// straight into its message bytes with ``EnvelopeWriter``; no ``Schema`` or
/// ``Value`` tree per event. The bytes are those Connect's JsonConverter
/// writes for the same event (`ChangeEventWriterTests` compares them).
///
/// An event whose row leaves out unchanged TOAST values has schemas of its
/// own (its `before`/`after` struct lacks those columns): their writers are
/// made when such a row first comes, and kept.
struct ChangeEventWriter: Sendable {
    let table: CapturedTable
    private let settings: ChangeEventEncoder
    /// The key struct (nil: the table has no key).
    private var key: EnvelopeWriter?
    /// The `source` block's payload.
    private var source: EnvelopeWriter
    /// Rows with every column, and the envelope whose before and after have every column.
    private var row: EnvelopeWriter
    private var envelope: EnvelopeWriter
    /// Rows without some columns (unchanged TOAST values), by the columns they have.
    private var partialRows: [[Int]: EnvelopeWriter] = [:]
    private var partialEnvelopes: [Shape: EnvelopeWriter] = [:]
    /// Constant strings of the `source` block, as UTF-8.
    private let version: [UInt8], connector: [UInt8], serverName: [UInt8], database: [UInt8], schemaName: [UInt8], tableName: [UInt8]

    /// The columns the before and after structs of an envelope have (nil: all).
    private struct Shape: Hashable {
        var before: [Int]?
        var after: [Int]?
    }

    /// Distinct partial rows kept; bounds pathological tables (a full cache starts over).
    static let partialCapacity = 64

    init(_ table: CapturedTable, _ settings: ChangeEventEncoder) {
        self.table = table
        self.settings = settings
        key = table.keySchema.map { EnvelopeWriter(SchemaInterner.shared.intern($0), schemasEnabled: settings.keySchemasEnabled) }
        source = EnvelopeWriter(SchemaInterner.shared.intern(ChangeEventEncoder.sourceSchema), schemasEnabled: false)
        row = ChangeEventWriter.rowWriter(table, columns: nil)
        envelope = ChangeEventWriter.envelopeWriter(table, Shape(), schemasEnabled: settings.valueSchemasEnabled)
        version = Array(ChangeEventEncoder.version.utf8)
        connector = Array("postgresql".utf8)
        serverName = Array(settings.serverName.utf8)
        database = Array(settings.database.utf8)
        schemaName = Array(table.relation.namespace.utf8)
        tableName = Array(table.relation.name.utf8)
    }

    /// The `<prefix>.Value` struct of `columns` (nil: all).
    private static func rowSchema(_ table: CapturedTable, _ columns: [Int]?) -> Schema {
        let fields = (columns ?? Array(table.columns.indices)).map { Field(table.columns[$0].name, table.columns[$0].schema) }
        return .struct("\(table.schemaPrefix).Value", fields, optional: true)
    }

    private static func rowWriter(_ table: CapturedTable, columns: [Int]?) -> EnvelopeWriter {
        EnvelopeWriter(SchemaInterner.shared.intern(rowSchema(table, columns)), schemasEnabled: false)
    }

    private static func envelopeWriter(_ table: CapturedTable, _ shape: Shape, schemasEnabled: Bool) -> EnvelopeWriter {
        let schema = Schema.struct("\(table.schemaPrefix).Envelope", [
            Field("before", rowSchema(table, shape.before)), Field("after", rowSchema(table, shape.after)),
            Field("source", ChangeEventEncoder.sourceSchema), Field("op", .string), Field("ts_ms", Schema.int64.asOptional),
            Field("transaction", ChangeEventEncoder.transactionSchema),
        ])
        return EnvelopeWriter(SchemaInterner.shared.intern(schema), schemasEnabled: schemasEnabled)
    }

    /// The messages for `change`, in order.
    mutating func messages(_ change: CapturedChange, origin: ChangeOrigin) throws -> [KafkaMessage] {
        switch change {
        case .read(let new): return [try event("r", before: nil, after: new, key: try keyBytes(new), origin)]
        case .insert(let new): return [try event("c", before: nil, after: new, key: try keyBytes(new), origin)]
        case .update(let old, let new):
            let newKey = try keyBytes(new)
            if let old, let oldKey = try? keyBytes(old), oldKey != newKey {
                return try deleted(old: old, key: oldKey, origin) + [try event("c", before: nil, after: new, key: newKey, origin)]
            }
            return [try event("u", before: old, after: new, key: newKey, origin)]
        case .delete(let old):
            return try deleted(old: old, key: try keyBytes(old), origin)
        case .truncate:
            return [try event("t", before: nil, after: nil, key: nil, origin)]
        }
    }

    private mutating func deleted(old: [TupleValue], key: [UInt8]?, _ origin: ChangeOrigin) throws -> [KafkaMessage] {
        var out = [try event("d", before: old, after: nil, key: key, origin)]
        if settings.tombstones { out.append(KafkaMessage(topic: table.topic, key: key, value: nil)) }
        return out
    }

    private mutating func event(_ op: StaticString, before: [TupleValue]?, after: [TupleValue]?, key: [UInt8]?, _ origin: ChangeOrigin) throws -> KafkaMessage {
        let beforeRow = try before.map { try rowBytes($0) }
        let afterRow = try after.map { try rowBytes($0) }
        let sourceBytes = writeSource(origin)
        let shape = Shape(before: beforeRow?.columns, after: afterRow?.columns)
        if shape == Shape() {
            return KafkaMessage(topic: table.topic, key: key, value: try ChangeEventWriter.write(op, beforeRow?.bytes, afterRow?.bytes, sourceBytes, settings.now(), to: &envelope))
        }
        var writer = partialEnvelopes[shape] ?? ChangeEventWriter.envelopeWriter(table, shape, schemasEnabled: settings.valueSchemasEnabled)
        let value = try ChangeEventWriter.write(op, beforeRow?.bytes, afterRow?.bytes, sourceBytes, settings.now(), to: &writer)
        if partialEnvelopes.count >= ChangeEventWriter.partialCapacity { partialEnvelopes.removeAll() }
        partialEnvelopes[shape] = writer
        return KafkaMessage(topic: table.topic, key: key, value: value)
    }

    private static func write(_ op: StaticString, _ before: [UInt8]?, _ after: [UInt8]?, _ source: [UInt8], _ now: Int64, to writer: inout EnvelopeWriter) throws -> [UInt8] {
        if let before { writer.writeJSON(before) } else { try writer.writeNull() }
        if let after { writer.writeJSON(after) } else { try writer.writeNull() }
        writer.writeJSON(source)
        op.withUTF8Buffer { writer.writeString(utf8: $0) }
        writer.write(now)
        try writer.writeNull()  // transaction
        return writer.finish()
    }

    /// The `source` block's payload.
    private mutating func writeSource(_ origin: ChangeOrigin) -> [UInt8] {
        func string(_ bytes: [UInt8], _ writer: inout EnvelopeWriter) {
            bytes.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
        }
        string(version, &source)
        string(connector, &source)
        string(serverName, &source)
        source.write(origin.commitMillis)
        var snapshot = origin.snapshot
        snapshot.withUTF8 { source.writeString(utf8: $0) }
        string(database, &source)
        try? source.writeNull()  // sequence (optional: never throws)
        string(schemaName, &source)
        string(tableName, &source)
        if let txId = origin.txId { source.write(Int64(txId)) } else { try? source.writeNull() }
        if let lsn = origin.lsn { source.write(Int64(bitPattern: lsn.value)) } else { try? source.writeNull() }
        try? source.writeNull()  // xmin
        return source.finish()
    }

    /// The payload of the row `tuple`, and the columns it has (nil: all).
    /// Columns whose value is an unchanged TOAST value (pgoutput did not
    /// send it) are left out of the struct and of its schema, so a sink
    /// never overwrites them.
    private mutating func rowBytes(_ tuple: [TupleValue]) throws -> (bytes: [UInt8], columns: [Int]?) {
        guard tuple.count == table.columns.count else {
            throw PostgresError.schema(table: table.label, reason: "a change has \(tuple.count) columns, its Relation message \(table.columns.count)")
        }
        guard tuple.contains(where: { if case .unchangedToast = $0 { true } else { false } }) else {
            return (try ChangeEventWriter.write(tuple, tuple.indices, of: table, to: &row), nil)
        }
        let columns = tuple.indices.filter { if case .unchangedToast = tuple[$0] { false } else { true } }
        var writer = partialRows[columns] ?? ChangeEventWriter.rowWriter(table, columns: columns)
        let bytes = try ChangeEventWriter.write(tuple, columns, of: table, to: &writer)
        if partialRows.count >= ChangeEventWriter.partialCapacity { partialRows.removeAll() }
        partialRows[columns] = writer
        return (bytes, columns)
    }

    /// Writes `columns` of `tuple` as the fields of `writer`'s struct; on an
    /// error the writer drops what it had of the record.
    private static func write(_ tuple: [TupleValue], _ columns: some Collection<Int>, of table: CapturedTable, to writer: inout EnvelopeWriter) throws -> [UInt8] {
        do {
            for index in columns {
                guard case .text(let bytes) = tuple[index] else {
                    // A row's fields are all optional; unchanged TOAST values are never among `columns`.
                    try writer.writeNull()
                    continue
                }
                // Through the kind alone: calling the column's own method copied the column per cell.
                let written = if let kind = table.scalarKinds[index] {
                    try CapturedColumn.write(bytes, as: kind, to: &writer)
                } else {
                    try table.columns[index].write(bytes, to: &writer)
                }
                guard written else {
                    throw table.conversionError(table.columns[index], bytes)
                }
            }
        } catch {
            writer.reset()
            throw error
        }
        return writer.finish()
    }

    /// The key struct of `tuple`, or nil when the table has no key.
    /// A key column that is null or missing is an error naming the table.
    private mutating func keyBytes(_ tuple: [TupleValue]) throws -> [UInt8]? {
        guard key != nil else { return nil }
        for index in table.keyIndexes where !(index < tuple.count && tuple[index].isText) {
            throw PostgresError.schema(table: table.label, reason: "a change carries no value for key column '\(table.columns[index].name)'")
        }
        return try ChangeEventWriter.write(tuple, table.keyIndexes, of: table, to: &key!)
    }
}

extension TupleValue {
    var isText: Bool { if case .text = self { true } else { false } }
}
