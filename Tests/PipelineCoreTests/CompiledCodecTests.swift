import PipelineCore
import XCTest

/// The per-schema codec (``EnvelopeWriter``, ``JsonConverter/read(_:into:)``)
/// against the tree-based converter it replaces on the hot paths: the same
/// bytes out, the same values in.
final class CompiledCodecTests: XCTestCase {
    /// Every type the Postgres source maps, optional so nulls are allowed, plus required ones.
    static let schema = Schema.struct("ALL_TYPES", [
        Field("id", .int64),
        Field("small", Schema.int16.asOptional),
        Field("medium", Schema.int32.asOptional),
        Field("tiny", Schema.int8.asOptional),
        Field("real", Schema.float32.asOptional),
        Field("double", Schema.float64.asOptional),
        Field("flag", Schema.boolean.asOptional),
        Field("text", Schema.string.asOptional),
        Field("price", LogicalType.decimal(scale: 2, precision: 12, optional: true)),
        Field("whole", LogicalType.decimal(scale: 0, precision: 30, optional: true)),
        Field("born", LogicalType.date(optional: true)),
        Field("lunch", LogicalType.time(optional: true)),
        Field("at", LogicalType.timestamp(optional: true)),
        Field("blob", Schema.bytes.asOptional),
        Field("name", .string),
    ])

    /// One row per line: the values `write` below puts into the writer.
    enum Cell {
        case null, int(Int64), double(Double), bool(Bool), text([UInt8]), base64([UInt8])
    }

    static let rows: [[Cell]] = [
        [.int(1), .int(-32768), .int(2_147_483_647), .int(-128), .double(0.25), .double(12.5), .bool(true),
         .text(Array("plain".utf8)), .base64([0x30, 0x39]), .base64([0x00, 0xFF]), .int(19000), .int(45_296_789), .int(1_700_000_000_123),
         .base64([0, 1, 2, 255]), .text(Array("Ada".utf8))],
        [.int(-9_223_372_036_854_775_808), .null, .null, .null, .null, .null, .null, .null, .null, .null, .null, .null, .null, .null,
         .text([])],
        [.int(9_223_372_036_854_775_807), .int(0), .int(0), .int(0), .double(-0.0), .double(.nan), .bool(false),
         .text(Array("quote \" backslash \\ slash / tab \t nl \n cr \r bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f}".utf8)),
         .base64([0xFF, 0xFF, 0xFF, 0x85]), .base64([0x7F]), .int(-719_528), .int(0), .int(-62_135_596_800_000),
         .base64([]), .text(Array("ünïcødé 日本語 🎉 \u{2028}".utf8))],
        [.int(42), .int(1), .int(-1), .int(127), .double(.infinity), .double(-.infinity), .bool(true),
         .text([0x61, 0xFF, 0x62, 0xC3]), .base64([0x01]), .base64([0x12, 0x34, 0x56, 0x78, 0x9A]), .int(2_932_896), .int(86_400_000),
         .int(-1), .base64([0x00]), .text(Array("\u{FEFF}bom".utf8))],
        [.int(7), .null, .int(5), .null, .double(1e15), .double(1.0e-7), .null, .text(Array("{\"json\":[1,2]}".utf8)), .null, .null,
         .null, .null, .int(253_402_300_799_999), .null, .text(Array("x".utf8))],
        [.int(8), .null, .null, .null, .double(123_456_789.125), .double(0.1 + 0.2), .null, .null, .null, .null, .null, .null, .null,
         .null, .text(Array(String(repeating: "long text ", count: 100).utf8))],
    ]

    /// The value the tree-based converter encodes for a cell.
    static func value(_ cell: Cell, _ schema: Schema) -> Value {
        switch (cell, schema.name) {
        case (.null, _): return .null
        case (.int(let v), LogicalType.timestampName): return .timestamp(v)
        case (.int(let v), LogicalType.dateName): return .date(Int32(v))
        case (.int(let v), LogicalType.timeName): return .time(Int32(v))
        case (.int(let v), _): return .int(v)
        case (.double(let v), _): return .double(v)
        case (.bool(let v), _): return .bool(v)
        case (.text(let bytes), _): return .string(String(decoding: bytes, as: UTF8.self))
        case (.base64(let bytes), LogicalType.decimalName): return .decimal(DecimalValue(unscaled: bytes, scale: schema.decimalScale!))
        case (.base64(let bytes), _): return .bytes(bytes)
        }
    }

    static func write(_ row: [Cell], _ writer: inout EnvelopeWriter) throws {
        for cell in row {
            switch cell {
            case .null: try writer.writeNull()
            case .int(let v): writer.write(v)
            case .double(let v): writer.write(v)
            case .bool(let v): writer.write(v)
            case .text(let bytes): bytes.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
            case .base64(let bytes): writer.writeBase64(bytes)
            }
        }
    }

    static func expected(_ row: [Cell]) -> SchemaAndValue {
        SchemaAndValue(schema: schema, value: .struct(zip(schema.fields, row).map { NamedValue($0.name, value($1, $0.schema)) }))
    }

    func testEnvelopeWriterIsByteIdenticalToTheConverter() throws {
        for schemasEnabled in [true, false] {
            let converter = JsonConverter(schemasEnabled: schemasEnabled)
            var writer = EnvelopeWriter(SchemaInterner.shared.intern(Self.schema), schemasEnabled: schemasEnabled)
            for (i, row) in Self.rows.enumerated() {
                try Self.write(row, &writer)
                let new = writer.finish()
                let old = try XCTUnwrap(try converter.encode(Self.expected(row)))
                XCTAssertEqual(String(decoding: new, as: UTF8.self), String(decoding: old, as: UTF8.self), "row \(i)")
                XCTAssertEqual(new, old, "row \(i), schemas \(schemasEnabled)")
            }
        }
    }

    func testEnvelopeWriterRefusesNullForARequiredField() throws {
        var writer = EnvelopeWriter(SchemaInterner.shared.intern(Self.schema), schemasEnabled: true)
        XCTAssertThrowsError(try writer.writeNull()) { error in
            XCTAssertEqual("\(error)", "payload.id: null value for a required int64 field")
        }
        writer.reset()
        try Self.write(Self.rows[0], &writer)
        XCTAssertEqual(writer.finish(), try JsonConverter().encode(Self.expected(Self.rows[0])))
    }

    func testFastReadGivesWhatTheFullDecoderGives() throws {
        let converter = JsonConverter()
        for (i, row) in Self.rows.enumerated() {
            let bytes = try XCTUnwrap(try converter.encode(Self.expected(row)))
            // A space after `{"schema":` makes the layout non-compact: the full parse runs.
            let spaced = Array(#"{"schema": "#.utf8) + bytes.dropFirst(#"{"schema":"#.utf8.count)
            let full = try converter.decode(spaced)
            let fast = try converter.decode(bytes)
            // Compared as bytes: NaN is not equal to itself.
            XCTAssertEqual(try converter.encode(fast), try converter.encode(full), "row \(i)")
            XCTAssertEqual(try converter.encode(fast), bytes, "row \(i)")
            var collected = Collector()
            let location = converter.read(bytes, into: &collected)
            // Strings with escapes are left to the full decoder; everything else is read directly.
            let hasEscapes = row.contains { if case .text(let t) = $0 { t.contains { $0 < 0x20 || $0 == 34 || $0 == 92 } } else { false } }
            let hasNonFinite = row.contains { if case .double(let d) = $0 { !d.isFinite } else { false } }
            if hasEscapes || hasNonFinite {
                XCTAssertNil(location, "row \(i)")
            } else {
                let location = try XCTUnwrap(location, "row \(i)")
                XCTAssertEqual(location.schema?.schema, Self.schema)
                XCTAssertEqual(location.schema?.id, SchemaInterner.shared.intern(Self.schema).id)
                XCTAssertEqual(Array(bytes[location.range].prefix(1)), Array("{".utf8))
                XCTAssertEqual(collected.fields, Self.schema.fields.indices.map { $0 }, "row \(i)")
                guard case .struct(let named)? = full?.value else { return XCTFail("row \(i)") }
                XCTAssertEqual(collected.values, named.map(\.value), "row \(i)")
            }
        }
    }

    func testFastReadLeavesUnusualPayloadsToTheFullDecoder() throws {
        let converter = JsonConverter()
        let schema = Schema.struct("T", [Field("a", .int32), Field("b", Schema.string.asOptional)])
        let head = #"{"schema":"# + String(decoding: SchemaInterner.shared.intern(schema).json, as: UTF8.self) + #","payload":"#
        let cases: [(String, Bool)] = [
            (#"{"a":1,"b":"x"}"#, true),
            (#"{ "a" : 1 , "b" : null }"#, true),
            (#"{"b":"x","a":1}"#, false),  // other order
            (#"{"a":1}"#, false),  // missing member
            (#"{"a":1,"b":"x","c":2}"#, false),  // extra member
            (#"{"a":1.0,"b":"x"}"#, false),  // integral double
            (#"{"a":2147483648,"b":"x"}"#, false),  // out of int32
            (#"{"a":null,"b":"x"}"#, false),  // null for required
            (#"{"a":1,"b":"\u00e9"}"#, false),  // escape
            (#"{"a":1,"b":"x"} x"#, false),  // trailing garbage
            ("null", false),
        ]
        for (payload, fast) in cases {
            let bytes = Array((head + payload + "}").utf8)
            var validation = PayloadValidation()
            XCTAssertEqual(converter.read(bytes, into: &validation) != nil, fast, payload)
        }
        var validation = PayloadValidation()
        // A nested struct has no compiled reader.
        let nested = try XCTUnwrap(try converter.encode(SchemaAndValue(
            schema: .struct("N", [Field("inner", .struct("I", [Field("x", .int32)]))]),
            value: .struct([NamedValue("inner", .struct([NamedValue("x", .int(1))]))]))))
        XCTAssertNil(converter.read(nested, into: &validation))
        XCTAssertNil(JsonConverter(schemasEnabled: false).read(Array(#"{"a":1}"#.utf8), into: &validation))
        XCTAssertEqual(JsonConverter(schemasEnabled: false).locatePayload(Array(#"{"a":1}"#.utf8))?.range, 0..<7)
    }

    func testValidationChecksTheStringsItDoesNotKeep() throws {
        // PayloadValidation skips building strings; it must still take and
        // refuse exactly what a visitor that keeps them does.
        let converter = JsonConverter()
        let schema = Schema.struct("T", [Field("a", .int32), Field("b", .string)])
        let head = #"{"schema":"# + String(decoding: SchemaInterner.shared.intern(schema).json, as: UTF8.self) + #","payload":{"a":1,"b":""#
        let cases: [([UInt8], Bool)] = [
            (Array("plain".utf8), true),
            (Array("é 日本 🙂".utf8), true),
            ([0x61, 0xFF, 0x62], false),  // not UTF-8
            ([0x61, 0xC3], false),  // a truncated sequence
            ([0xED, 0xA0, 0x80], false),  // a surrogate
            ([0xC0, 0xAF], false),  // an overlong form
        ]
        for (text, valid) in cases {
            let bytes = Array(head.utf8) + text + Array(#""}}"#.utf8)
            var validation = PayloadValidation()
            var kept = KeptStrings()
            XCTAssertEqual(converter.read(bytes, into: &validation) != nil, valid, "\(text)")
            XCTAssertEqual(converter.read(bytes, into: &kept) != nil, valid, "\(text)")
            if valid { XCTAssertEqual(kept.strings, [String(decoding: text, as: UTF8.self)]) }
        }
    }

    func testPrimitivePayloadsAreReadToo() throws {
        let converter = JsonConverter()
        let bytes = try XCTUnwrap(try converter.encode(SchemaAndValue(schema: .int64, value: .int(42))))
        var collected = Collector()
        XCTAssertNotNil(converter.read(bytes, into: &collected))
        XCTAssertEqual(collected.values, [.int(42)])
        XCTAssertEqual(try converter.decode(bytes), SchemaAndValue(schema: .int64, value: .int(42)))
    }

    func testInternerGivesOneIdPerSchema() {
        let a = SchemaInterner.shared.intern(Self.schema)
        let b = SchemaInterner.shared.intern(Self.schema)
        XCTAssertTrue(a === b)
        XCTAssertEqual(SchemaInterner.shared.intern(json: ArraySlice(a.json))?.id, a.id)
        let spaced = Array(String(decoding: a.json, as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8)
        XCTAssertEqual(SchemaInterner.shared.intern(json: ArraySlice(spaced))?.id, a.id, "another text of the same schema")
        XCTAssertNotEqual(SchemaInterner.shared.intern(Self.schema.asOptional).id, a.id)
        XCTAssertNil(SchemaInterner.shared.intern(json: ArraySlice(Array(#"{"type":"nope"}"#.utf8))))
        // A known schema text is matched in place; what follows it must still be `,"payload":`.
        let text = String(decoding: a.json, as: UTF8.self)
        let good = Array((#"{"schema":"# + text + #","payload":{"id":1}}"#).utf8)
        XCTAssertEqual(JsonConverter().locatePayload(good)?.range, (good.count - 9)..<(good.count - 1))
        XCTAssertEqual(JsonConverter().locatePayload(good)?.schema?.id, a.id)
        XCTAssertNil(JsonConverter().locatePayload(Array((#"{"schema":"# + text + #","payloadx":{}}"#).utf8)))
        XCTAssertNil(JsonConverter().locatePayload(Array((#"{"schema":"# + text + #","payload":}"#).utf8)))
    }
}

/// Records what a reader visits.
struct Collector: PayloadVisitor {
    var fields: [Int] = []
    var values: [Value] = []
    mutating func null(_ field: Int) { fields.append(field); values.append(.null) }
    mutating func int(_ field: Int, _ value: Int64) { fields.append(field); values.append(.int(value)) }
    mutating func double(_ field: Int, _ value: Double) { fields.append(field); values.append(.double(value)) }
    mutating func bool(_ field: Int, _ value: Bool) { fields.append(field); values.append(.bool(value)) }
    mutating func string(_ field: Int, _ value: String) { fields.append(field); values.append(.string(value)) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) { fields.append(field); values.append(.bytes(value)) }
    mutating func timestamp(_ field: Int, _ milliseconds: Int64) { fields.append(field); values.append(.timestamp(milliseconds)) }
    mutating func date(_ field: Int, _ days: Int32) { fields.append(field); values.append(.date(days)) }
    mutating func time(_ field: Int, _ milliseconds: Int32) { fields.append(field); values.append(.time(milliseconds)) }
    mutating func decimal(_ field: Int, _ value: DecimalValue) { fields.append(field); values.append(.decimal(value)) }
}

/// A visitor that keeps the strings (``PayloadVisitor/keepsStrings`` true, the default).
private struct KeptStrings: PayloadVisitor {
    var strings: [String] = []
    mutating func null(_ field: Int) {}
    mutating func int(_ field: Int, _ value: Int64) {}
    mutating func double(_ field: Int, _ value: Double) {}
    mutating func bool(_ field: Int, _ value: Bool) {}
    mutating func string(_ field: Int, _ value: String) { strings.append(value) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) {}
    mutating func timestamp(_ field: Int, _ milliseconds: Int64) {}
    mutating func date(_ field: Int, _ days: Int32) {}
    mutating func time(_ field: Int, _ milliseconds: Int32) {}
    mutating func decimal(_ field: Int, _ value: DecimalValue) {}
}
