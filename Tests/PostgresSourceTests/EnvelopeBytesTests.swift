import PipelineCore
import XCTest

@testable import PostgresSource

/// Rows go from libpq's text straight into envelope bytes (``ColumnReader``
/// into ``EnvelopeWriter``); the bytes must be exactly what the converter
/// wrote for the same row converted to ``Value``s, as the source did before.
final class EnvelopeBytesTests: XCTestCase {
    typealias OID = ColumnReader.OID

    /// A column of each mapped type: (name, type OID, typmod, PostgreSQL's text of some values, the Value each means).
    static let columns: [(String, UInt32, Int32, [(String?, Value)])] = [
        ("id", OID.int8, -1, [("1", .int(1)), ("-9223372036854775808", .int(.min)), ("9223372036854775807", .int(.max))]),
        ("small", OID.int2, -1, [("-32768", .int(-32768)), (nil, .null), ("0", .int(0))]),
        ("medium", OID.int4, -1, [("2147483647", .int(2_147_483_647)), ("-1", .int(-1)), (nil, .null)]),
        ("object", OID.oid, -1, [("4294967295", .int(4_294_967_295)), (nil, .null), ("0", .int(0))]),
        ("real", OID.float4, -1, [("0.25", .double(0.25)), ("NaN", .double(.nan)), ("-Infinity", .double(-.infinity))]),
        ("double", OID.float8, -1, [("1e+15", .double(1e15)), ("0.30000000000000004", .double(0.1 + 0.2)), ("-0", .double(-0.0))]),
        ("flag", OID.bool, -1, [("t", .bool(true)), ("f", .bool(false)), (nil, .null)]),
        ("text", OID.text, -1, [
            ("quote \" back \\ tab \t nl \n nul-free \u{1} del \u{7f}", .string("quote \" back \\ tab \t nl \n nul-free \u{1} del \u{7f}")),
            ("ünïcødé 日本語 🎉 \u{2028}", .string("ünïcødé 日本語 🎉 \u{2028}")), ("", .string("")),
        ]),
        ("name", OID.varchar, -1, [("Ada", .string("Ada")), (nil, .null), ("{\"json\": [1, 2]}", .string("{\"json\": [1, 2]}"))]),
        ("price", OID.numeric, (12 << 16 | 2) + 4, [
            ("123.45", .decimal(DecimalValue("123.45")!)), ("-0.01", .decimal(DecimalValue("-0.01")!)),
            ("9999999999.99", .decimal(DecimalValue("9999999999.99")!)),
        ]),
        ("whole", OID.numeric, (30 << 16 | 0) + 4, [
            ("123456789012345678901234567890", .decimal(DecimalValue("123456789012345678901234567890")!)), ("0", .decimal(DecimalValue("0")!)),
            (nil, .null),
        ]),
        ("free", OID.numeric, -1, [("3.14159265358979323846", .string("3.14159265358979323846")), (nil, .null), ("-5", .string("-5"))]),
        ("born", OID.date, -1, [("1970-01-01", .date(0)), ("0001-01-01 BC", .date(-719_528)), ("9999-12-31", .date(2_932_896))]),
        ("lunch", OID.time, -1, [("12:34:56.789123", .time(45_296_789)), ("24:00:00", .time(86_400_000)), ("00:00:00", .time(0))]),
        ("at", OID.timestamptz, -1, [
            ("2023-11-14 22:13:20.123+00", .timestamp(1_700_000_000_123)), ("1969-12-31 23:59:59.9995+00", .timestamp(-1)),
            ("2024-02-29 01:00:00+01", .timestamp(1_709_164_800_000)),
        ]),
        ("local", OID.timestamp, -1, [("2000-01-01 00:00:00", .timestamp(946_684_800_000)), (nil, .null), ("1900-03-01 12:00:00.5", .timestamp(-2_203_891_200_000 + 43_200_500))]),
        ("blob", OID.bytea, -1, [("\\x0001ff", .bytes([0, 1, 255])), ("\\x", .bytes([])), (nil, .null)]),
        ("uuid", OID.uuid, -1, [("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")), (nil, .null), ("00000000-0000-0000-0000-000000000000", .string("00000000-0000-0000-0000-000000000000"))]),
        ("doc", OID.jsonb, -1, [("{\"a\": \"\\u00e9\"}", .string("{\"a\": \"\\u00e9\"}")), (nil, .null), ("[]", .string("[]"))]),
    ]

    func readers() throws -> [ColumnReader] {
        try Self.columns.map { name, oid, typmod, _ in
            let info = ColumnInfo(
                name: name, typeOID: oid, typeModifier: typmod, typeName: "t", typeType: "b",
                notNull: name == "id" ? true : nil, isSerial: false)
            return try ColumnReader(info, optional: name != "id", numericMapping: .none, table: "t")
        }
    }

    func testRowsAreByteIdenticalToTheConvertersEnvelopes() throws {
        let readers = try readers()
        let schema = Schema.struct("ALL", readers.map { Field($0.name, $0.schema) })
        for schemasEnabled in [true, false] {
            var writer = EnvelopeWriter(SchemaInterner.shared.intern(schema), schemasEnabled: schemasEnabled)
            for row in 0..<3 {
                var expected: [NamedValue] = []
                for (reader, column) in zip(readers, Self.columns) {
                    let (text, value) = column.3[row]
                    expected.append(NamedValue(reader.name, value))
                    let written = try Self.withCell(text) { try reader.write($0, to: &writer) }
                    XCTAssertTrue(written, "\(reader.name) row \(row)")
                }
                let new = writer.finish()
                let old = try XCTUnwrap(try JsonConverter(schemasEnabled: schemasEnabled).encode(SchemaAndValue(schema: schema, value: .struct(expected))))
                XCTAssertEqual(String(decoding: new, as: UTF8.self), String(decoding: old, as: UTF8.self), "row \(row)")
                XCTAssertEqual(new, old, "row \(row)")
            }
        }
    }

    func testUnreadableCellsAreReportedWithoutWriting() throws {
        let readers = try readers()
        let schema = Schema.struct("ALL", readers.map { Field($0.name, $0.schema) })
        var writer = EnvelopeWriter(SchemaInterner.shared.intern(schema), schemasEnabled: true)
        let born = readers.first { $0.name == "born" }!
        let written = try Self.withCell("infinity") { try readers[0].write($0, to: &writer) && born.write($0, to: &writer) }
        XCTAssertFalse(written)
        let error = Self.withCell("infinity") { born.conversionError($0, table: "t") }
        XCTAssertEqual("\(error)", "\(PostgresError.conversion(table: "t", column: "born", reason: "cannot read 'infinity' as org.apache.kafka.connect.data.Date"))")
    }

    /// Runs `body` with the cell as libpq hands it over: NUL-terminated, or nil for NULL.
    static func withCell<T>(_ text: String?, _ body: (PGText.Bytes?) throws -> T) rethrows -> T {
        guard let text else { return try body(nil) }
        var bytes = Array(text.utf8) + [0]
        return try bytes.withUnsafeMutableBufferPointer { try body(PGText.Bytes(start: $0.baseAddress, count: $0.count - 1)) }
    }
}
