@testable import PipelineCore
import XCTest

@testable import PostgresSource

/// The compiled writer (``ChangeEventWriter``) against the events the
/// generic path writes: a ``Schema`` and ``Value`` tree per event, encoded by
/// Connect's ``JsonConverter`` (``ReferenceEvents`` below, the encoder the
/// writer replaced). Every op, every mapped type, each `decimal.handling.mode`,
/// nulls, unchanged TOAST values, and the converters with and without schemas
/// must give the same bytes.
final class ChangeEventWriterTests: XCTestCase {
    /// One column of each kind the mapping has (OIDs as PostgreSQL's catalog).
    static let relation = Relation(id: 7, namespace: "sales", name: "order lines", replicaIdentity: UInt8(ascii: "f"), columns: [
        RelationColumn(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
        RelationColumn(isKey: true, name: "region", typeOID: 25, typeModifier: -1),
        RelationColumn(isKey: false, name: "amount", typeOID: 1700, typeModifier: (10 << 16 | 2) + 4),  // numeric(10,2)
        RelationColumn(isKey: false, name: "ratio", typeOID: 1700, typeModifier: -1),  // numeric
        RelationColumn(isKey: false, name: "f8", typeOID: 701, typeModifier: -1),
        RelationColumn(isKey: false, name: "f4", typeOID: 700, typeModifier: -1),
        RelationColumn(isKey: false, name: "small", typeOID: 21, typeModifier: -1),
        RelationColumn(isKey: false, name: "big", typeOID: 20, typeModifier: -1),
        RelationColumn(isKey: false, name: "ok", typeOID: 16, typeModifier: -1),
        RelationColumn(isKey: false, name: "at", typeOID: 1184, typeModifier: -1),  // timestamptz
        RelationColumn(isKey: false, name: "local", typeOID: 1114, typeModifier: -1),  // timestamp
        RelationColumn(isKey: false, name: "day", typeOID: 1082, typeModifier: -1),
        RelationColumn(isKey: false, name: "clock", typeOID: 1083, typeModifier: -1),
        RelationColumn(isKey: false, name: "u", typeOID: 2950, typeModifier: -1),
        RelationColumn(isKey: false, name: "j", typeOID: 3802, typeModifier: -1),  // jsonb
        RelationColumn(isKey: false, name: "tags", typeOID: 1007, typeModifier: -1),  // int4[]
        RelationColumn(isKey: false, name: "names", typeOID: 1009, typeModifier: -1),  // text[]
        RelationColumn(isKey: false, name: "stamps", typeOID: 1185, typeModifier: -1),  // timestamptz[]
        RelationColumn(isKey: false, name: "blob", typeOID: 17, typeModifier: -1),  // bytea
        RelationColumn(isKey: false, name: "mood", typeOID: 91_234, typeModifier: -1),  // an enum: only its OID is known
        RelationColumn(isKey: false, name: "moods", typeOID: 91_235, typeModifier: -1),  // an array of it
        RelationColumn(isKey: false, name: "doc", typeOID: 25, typeModifier: -1),
    ])

    static func text(_ value: String) -> TupleValue { .text(Array(value.utf8)) }

    static let row: [TupleValue] = [
        text("5"), text("eu-west"), text("-12345678.90"), text("3.14159265358979323846"), text("-1.5e-07"), text("NaN"),
        text("-32768"), text("9223372036854775807"), text("t"), text("2024-05-06 07:08:09.123456+00"), text("1999-12-31 23:59:59.999"),
        text("2024-02-29"), text("23:59:59.999999"), text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        text(#"{"k": [1, 2], "q": "\"x\"\n"}"#), text("{1,NULL,-3}"), text(#"{"ann lee","c\"d",NULL,"NULL"}"#),
        text(#"{"2024-05-06 07:08:09.5+00",NULL}"#), text(#"\x00ff10"#), text("happy"), text("{happy,sad}"),
        text("tab\tquote\" backslash\\ é 😀 \u{1}"),
    ]

    /// The same row with NULLs, odd values, and TOAST values left unchanged.
    static let other: [TupleValue] = [
        text("6"), text("us"), .null, text("0"), text("Infinity"), text("-Infinity"), text("0"), .null, text("f"),
        text("1970-01-01 00:00:00+00"), .null, text("0001-01-01 BC"), text("24:00:00"), .null, .unchangedToast, text("{}"),
        .null, .null, .unchangedToast, .null, text("{}"), .unchangedToast,
    ]

    static let origin = ChangeOrigin(lsn: LSN(0x1_0000_0100), txId: 4_000_000_000, commitMillis: 1_700_000_000_000)
    static let snapshotOrigin = ChangeOrigin(lsn: LSN(0x100), txId: nil, commitMillis: 1_700_000_000_000, snapshot: "true")

    static var changes: [(String, CapturedChange, ChangeOrigin)] {
        let keyOnly: [TupleValue] = row.indices.map { $0 < 2 ? row[$0] : .null }
        return [
            ("read", .read(row), snapshotOrigin), ("insert", .insert(row), origin), ("insert with nulls", .insert(other.map { $0 == .unchangedToast ? .null : $0 }), origin),
            ("update", .update(old: nil, new: row), origin), ("update, FULL", .update(old: row, new: row), origin),
            ("update, TOAST unchanged", .update(old: nil, new: other), origin), ("update, FULL, TOAST unchanged", .update(old: other, new: other), origin),
            ("update changing the key", .update(old: row, new: other), origin), ("delete, key only", .delete(old: keyOnly), origin),
            ("delete, FULL", .delete(old: row), origin), ("truncate", .truncate, ChangeOrigin(lsn: LSN(9), txId: 1, commitMillis: 0)),
            ("no LSN nor txId", .insert(row), ChangeOrigin(lsn: nil, txId: nil, commitMillis: -1)),
        ]
    }

    func testTheWriterWritesTheConvertersBytes() throws {
        for mode in [PostgresCDCConfig.DecimalMode.precise, .double, .string] {
            for (keySchemas, valueSchemas) in [(true, true), (false, false), (true, false)] {
                for keys in [["id", "region"], []] {
                    for tombstones in [true, false] {
                        let label = "\(mode), schemas \(keySchemas)/\(valueSchemas), key \(keys), tombstones \(tombstones)"
                        let table = CapturedTable(relation: Self.relation, primaryKey: keys, topicPrefix: "srv", decimalMode: mode)
                        var encoder = ChangeEventEncoder(serverName: "srv", database: "shop", tombstones: tombstones, keySchemasEnabled: keySchemas, valueSchemasEnabled: valueSchemas)
                        encoder.now = { 1_700_000_000_999 }
                        let reference = ReferenceEvents(encoder: encoder)
                        var writer = encoder.writer(for: table)
                        // Twice: what the writers keep between events must not leak into the next.
                        for (name, change, origin) in Self.changes + Self.changes {
                            let expected = try reference.messages(change, of: table, origin: origin)
                            let written = try writer.messages(change, origin: origin)
                            XCTAssertEqual(written.map(\.topic), expected.map(\.topic), "\(name), \(label)")
                            XCTAssertEqual(written.map { Self.show($0.key) }, expected.map { Self.show($0.key) }, "\(name), \(label)")
                            XCTAssertEqual(written.map { Self.show($0.value) }, expected.map { Self.show($0.value) }, "\(name), \(label)")
                        }
                    }
                }
            }
        }
    }

    /// A row that cannot be read names its table and column, and the writer
    /// writes the next event whole (nothing of the failed one is left in it).
    func testABadCellNamesTheColumnAndLeavesTheWriterClean() throws {
        let table = CapturedTable(relation: Self.relation, primaryKey: ["id", "region"], topicPrefix: "srv", decimalMode: .precise)
        var encoder = ChangeEventEncoder(serverName: "srv", database: "shop", tombstones: true, keySchemasEnabled: true, valueSchemasEnabled: true)
        encoder.now = { 1_700_000_000_999 }
        var writer = encoder.writer(for: table)
        var bad = Self.row
        bad[12] = Self.text("noon")
        XCTAssertThrowsError(try writer.messages(.insert(bad), origin: Self.origin)) {
            XCTAssertEqual("\($0)", "cannot convert sales.order lines.clock: cannot read 'noon' as org.apache.kafka.connect.data.Time")
        }
        var badKey = Self.row
        badKey[0] = Self.text("five")
        XCTAssertThrowsError(try writer.messages(.insert(badKey), origin: Self.origin)) { XCTAssertTrue("\($0)".contains("sales.order lines.id"), "\($0)") }
        XCTAssertThrowsError(try writer.messages(.delete(old: Self.row.indices.map { $0 == 0 ? .null : Self.row[$0] }), origin: Self.origin)) {
            XCTAssertTrue("\($0)".contains("no value for key column 'id'"), "\($0)")
        }
        XCTAssertThrowsError(try writer.messages(.insert(Array(Self.row.dropLast())), origin: Self.origin)) { XCTAssertTrue("\($0)".contains("columns"), "\($0)") }
        let good = try writer.messages(.insert(Self.row), origin: Self.origin)
        let expected = try ReferenceEvents(encoder: encoder).messages(.insert(Self.row), of: table, origin: Self.origin)
        XCTAssertEqual(good.map { Self.show($0.key) }, expected.map { Self.show($0.key) })
        XCTAssertEqual(good.map { Self.show($0.value) }, expected.map { Self.show($0.value) })
    }

    static func show(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "null" }
}

/// The change events as a ``Schema`` and ``Value`` tree per event, encoded by
/// the generic ``JsonConverter``: what the connector wrote before the
/// compiled writer, kept here as the reference the writer must match.
struct ReferenceEvents {
    let encoder: ChangeEventEncoder
    var keyConverter: JsonConverter { JsonConverter(schemasEnabled: encoder.keySchemasEnabled) }
    var valueConverter: JsonConverter { JsonConverter(schemasEnabled: encoder.valueSchemasEnabled) }

    func messages(_ change: CapturedChange, of table: CapturedTable, origin: ChangeOrigin) throws -> [KafkaMessage] {
        switch change {
        case .read(let new): return [try event("r", table, before: nil, after: new, key: key(table, new), origin)]
        case .insert(let new): return [try event("c", table, before: nil, after: new, key: key(table, new), origin)]
        case .update(let old, let new):
            let newKey = try key(table, new)
            if let old, let oldKey = try? key(table, old), oldKey != newKey {
                return try deleted(table, old: old, key: oldKey, origin) + [try event("c", table, before: nil, after: new, key: newKey, origin)]
            }
            return [try event("u", table, before: old, after: new, key: newKey, origin)]
        case .delete(let old): return try deleted(table, old: old, key: try key(table, old), origin)
        case .truncate: return [try event("t", table, before: nil, after: nil, key: nil, origin)]
        }
    }

    func deleted(_ table: CapturedTable, old: [TupleValue], key: SchemaAndValue?, _ origin: ChangeOrigin) throws -> [KafkaMessage] {
        var out = [try event("d", table, before: old, after: nil, key: key, origin)]
        if encoder.tombstones { out.append(KafkaMessage(topic: table.topic, key: out[0].key, value: nil)) }
        return out
    }

    func event(_ op: String, _ table: CapturedTable, before: [TupleValue]?, after: [TupleValue]?, key: SchemaAndValue?, _ origin: ChangeOrigin) throws -> KafkaMessage {
        let full = Schema.struct("\(table.schemaPrefix).Value", table.columns.map { Field($0.name, $0.schema) }, optional: true)
        let beforeRow = try before.map { try row(table, $0) }
        let afterRow = try after.map { try row(table, $0) }
        let source: [NamedValue] = [
            NamedValue("version", .string(ChangeEventEncoder.version)), NamedValue("connector", .string("postgresql")),
            NamedValue("name", .string(encoder.serverName)), NamedValue("ts_ms", .int(origin.commitMillis)),
            NamedValue("snapshot", .string(origin.snapshot)), NamedValue("db", .string(encoder.database)), NamedValue("sequence", .null),
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
            NamedValue("op", .string(op)), NamedValue("ts_ms", .int(encoder.now())), NamedValue("transaction", .null),
        ])
        return KafkaMessage(topic: table.topic, key: try keyConverter.encode(key), value: try valueConverter.encode(SchemaAndValue(schema: schema, value: value)))
    }

    func row(_ table: CapturedTable, _ tuple: [TupleValue]) throws -> (Schema, Value) {
        var fields: [Field] = [], values: [NamedValue] = []
        for (column, cell) in zip(table.columns, tuple) {
            let value: Value
            switch cell {
            case .unchangedToast: continue
            case .null: value = .null
            case .text(let bytes):
                guard let read = column.value(bytes) else { throw table.conversionError(column, bytes) }
                value = read
            }
            fields.append(Field(column.name, column.schema))
            values.append(NamedValue(column.name, value))
        }
        return (.struct("\(table.schemaPrefix).Value", fields, optional: true), .struct(values))
    }

    func key(_ table: CapturedTable, _ tuple: [TupleValue]) throws -> SchemaAndValue? {
        guard let keySchema = table.keySchema else { return nil }
        var values: [NamedValue] = []
        for index in table.keyIndexes {
            guard case .text(let bytes) = tuple[index], let value = table.columns[index].value(bytes) else { throw table.conversionError(table.columns[index], []) }
            values.append(NamedValue(table.columns[index].name, value))
        }
        return SchemaAndValue(schema: keySchema, value: .struct(values))
    }
}
