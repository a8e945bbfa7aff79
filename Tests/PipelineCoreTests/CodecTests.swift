import PipelineCore
import XCTest

/// The JsonConverter against envelopes written out as Kafka Connect emits them.
final class CodecTests: XCTestCase {
    let converter = JsonConverter(schemasEnabled: true)

    /// Produced by Connect's JsonConverter for a JDBC source row (field order, type names, logical types).
    let connectEnvelope = #"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"index"},{"type":"string","optional":true,"field":"name"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"created_at"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"balance"},{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"birthdate"},{"type":"double","optional":true,"field":"score"},{"type":"float","optional":true,"field":"ratio"},{"type":"boolean","optional":false,"field":"active"},{"type":"bytes","optional":true,"field":"avatar"}],"optional":false,"name":"USERS"},"payload":{"index":7,"name":"Ada Lovelace","created_at":1700000000123,"balance":"MDk=","birthdate":19000,"score":12.5,"ratio":0.25,"active":true,"avatar":"AAEC"}}"#

    var usersSchema: Schema {
        .struct("USERS", [
            Field("index", .int64),
            Field("name", Schema.string.asOptional),
            Field("created_at", LogicalType.timestamp(optional: true)),
            Field("balance", LogicalType.decimal(scale: 2, precision: 10, optional: true)),
            Field("birthdate", LogicalType.date(optional: true)),
            Field("score", Schema.float64.asOptional),
            Field("ratio", Schema.float32.asOptional),
            Field("active", .boolean),
            Field("avatar", Schema.bytes.asOptional),
        ])
    }

    var usersValue: Value {
        .struct([
            NamedValue("index", .int(7)),
            NamedValue("name", .string("Ada Lovelace")),
            NamedValue("created_at", .timestamp(1_700_000_000_123)),
            NamedValue("balance", .decimal(DecimalValue("123.45")!)),
            NamedValue("birthdate", .date(19000)),
            NamedValue("score", .double(12.5)),
            NamedValue("ratio", .double(0.25)),
            NamedValue("active", .bool(true)),
            NamedValue("avatar", .bytes([0, 1, 2])),
        ])
    }

    /// Integers are written digit by digit in place: the same text as
    /// `String(v)` (and Jackson), at both limits too, and in integral doubles.
    func testIntegersAreWrittenAsTheirDecimalText() {
        var values: [Int64] = [0, 1, 9, 10, -1, -9, -10, 99, 100, -100, 1_700_000_000_123, .max, .min, .max - 1, .min + 1]
        for _ in 0..<1_000 { values.append(Int64.random(in: .min ... .max)) }
        for value in values {
            XCTAssertEqual(JSON.int(value).text, String(value))
        }
        XCTAssertEqual(JSON.double(-42).text, "-42.0")
        XCTAssertEqual(JSON.double(0).text, "0.0")
    }

    func testEncodesExactlyAsConnect() throws {
        let bytes = try converter.encode(SchemaAndValue(schema: usersSchema, value: usersValue))
        XCTAssertEqual(String(decoding: bytes!, as: UTF8.self), connectEnvelope)
    }

    func testDecodesConnectEnvelope() throws {
        let decoded = try converter.decode(Array(connectEnvelope.utf8))
        XCTAssertEqual(decoded?.schema, usersSchema)
        XCTAssertEqual(decoded?.value, usersValue)
        XCTAssertEqual(decoded?.value[field: "balance"], .decimal(DecimalValue("123.45")!))
    }

    func testCompactAndSpacedEnvelopesDecodeAlike() throws {
        // Connect's compact layout takes the cached-schema path; any other layout the full parser.
        let compact = try converter.decode(Array(connectEnvelope.utf8))
        let spaced = try converter.decode(Array(connectEnvelope.replacingOccurrences(of: #"{"schema":"#, with: #"{ "schema" : "#).utf8))
        XCTAssertEqual(compact, spaced)
        let reordered = #"{"payload":"x","schema":{"type":"string","optional":false}}"#
        XCTAssertEqual(try converter.decode(Array(reordered.utf8)), SchemaAndValue(schema: .string, value: .string("x")))
        // Braces and escaped quotes inside strings do not confuse the envelope split.
        let tricky = #"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"doc":"a } \" { ]","field":"s"}],"optional":false},"payload":{"s":"} \" {"}}"#
        let decoded = try converter.decode(Array(tricky.utf8))
        XCTAssertEqual(decoded?.value[field: "s"], .string(#"} " {"#))
        XCTAssertEqual(decoded?.schema?.fields.first?.schema.doc, #"a } " { ]"#)
        // Errors are those of the full parser, whichever path saw the message first.
        let extra = #"{"schema":{"type":"string","optional":false},"payload":"x","more":1}"#
        XCTAssertThrowsError(try converter.decode(Array(extra.utf8))) { error in
            XCTAssertTrue("\(error)".contains("may not contain additional fields"), "\(error)")
        }
        for _ in 0..<3 {
            XCTAssertEqual(try converter.decode(Array(connectEnvelope.utf8)), compact, "a cached schema decodes the same")
        }
    }

    func testRoundTripOfContainers() throws {
        let schema = Schema.struct("c", [
            Field("tags", .array(.string)),
            Field("attrs", .map(.string, .int32)),
            Field("weights", .map(.int32, .float64)),
            Field("nested", .struct("n", [Field("x", .int8)], optional: true)),
        ])
        let value = Value.struct([
            NamedValue("tags", .array([.string("a"), .string("b\"\n\u{1}")])),
            NamedValue("attrs", .map([MapEntry(.string("k"), .int(1))])),
            NamedValue("weights", .map([MapEntry(.int(3), .double(0.5))])),
            NamedValue("nested", .null),
        ])
        let bytes = try converter.encode(SchemaAndValue(schema: schema, value: value))!
        XCTAssertEqual(try converter.decode(bytes), SchemaAndValue(schema: schema, value: value))
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains(#""attrs":{"k":1}"#), text)
        XCTAssertTrue(text.contains(#""weights":[[3,0.5]]"#), text)
        XCTAssertTrue(text.contains(#""b\"\n\u0001""#), text)
    }

    func testSchemalessMode() throws {
        let plain = JsonConverter(schemasEnabled: false)
        let decoded = try plain.decode(Array(#"{"id":1,"name":"x","ok":false,"v":1.5}"#.utf8))
        XCTAssertNil(decoded?.schema)
        XCTAssertEqual(decoded?.value, .map([
            MapEntry(.string("id"), .int(1)), MapEntry(.string("name"), .string("x")),
            MapEntry(.string("ok"), .bool(false)), MapEntry(.string("v"), .double(1.5)),
        ]))
        XCTAssertEqual(try plain.encode(decoded).map { String(decoding: $0, as: UTF8.self) }, #"{"id":1,"name":"x","ok":false,"v":1.5}"#)
    }

    func testTombstonesAndNullPayloads() throws {
        XCTAssertNil(try converter.decode(nil))
        XCTAssertNil(try converter.encode(nil))
        XCTAssertNil(try converter.decode(Array(#"{"schema":null,"payload":null}"#.utf8)))
        let optional = try converter.decode(Array(#"{"schema":{"type":"string","optional":true},"payload":null}"#.utf8))
        XCTAssertNil(optional)
    }

    func testErrorsNameThePath() {
        XCTAssertThrowsError(try converter.decode(Array("not json".utf8))) { error in
            XCTAssertTrue("\(error)".contains("invalid JSON at byte 0"), "\(error)")
        }
        XCTAssertThrowsError(try converter.decode(Array(#"{"id":1}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("schemas.enable"), "\(error)")
        }
        let wrongType = #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"age"}],"optional":false},"payload":{"age":"old"}}"#
        XCTAssertThrowsError(try converter.decode(Array(wrongType.utf8))) { error in
            XCTAssertEqual("\(error)", #"payload.age: expected an integer, found "old""#)
        }
        let missingRequired = #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"age"}],"optional":false},"payload":{}}"#
        XCTAssertThrowsError(try converter.decode(Array(missingRequired.utf8))) { error in
            XCTAssertTrue("\(error)".contains("payload.age: null for a required int32"), "\(error)")
        }
        let overflow = #"{"schema":{"type":"int8","optional":false},"payload":300}"#
        XCTAssertThrowsError(try converter.decode(Array(overflow.utf8)))
    }

    func testRecordDecodingNamesTheMessage() {
        let message = KafkaMessage(topic: "P_USERS", partition: 2, offset: 41, key: nil, value: Array("{".utf8))
        XCTAssertThrowsError(try Record(decoding: message, keyConverter: converter, valueConverter: converter)) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad message at P_USERS-2@41:"), "\(error)")
        }
    }

    func testDecimalText() {
        for text in ["0", "1", "-1", "123.45", "-123.45", "0.001", "-0.5", "127", "128", "-128", "-129", "99999999999999999999999999.123456789"] {
            XCTAssertEqual(DecimalValue(text)?.description, text, text)
        }
        XCTAssertEqual(DecimalValue("12345")!.unscaled, [0x30, 0x39])
        XCTAssertEqual(DecimalValue("-128")!.unscaled, [0x80])
        XCTAssertEqual(DecimalValue("128")!.unscaled, [0x00, 0x80])
        XCTAssertEqual(DecimalValue("1.5", scale: 3)?.description, "1.500")
        XCTAssertNil(DecimalValue("1.55", scale: 1))
        XCTAssertNil(DecimalValue("1e5"))
        XCTAssertEqual(DecimalValue(unscaledInt: -12345, scale: 2).description, "-123.45")
    }

    func testBase64() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + 11) & 0xFF) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("Man".utf8)), "TWFu")
        XCTAssertEqual(Base64.encode(Array("Ma".utf8)), "TWE=")
        XCTAssertNil(Base64.decode("**"))
    }

    func testJSONParserEdgeCases() throws {
        XCTAssertEqual(try JSON.parse(#" {"a" : [1, -2.5e3, true, null, "\u00e9\ud83d\ude00"]} "#),
                       .object([("a", .array([.int(1), .double(-2500), .bool(true), .null, .string("é😀")]))]))
        XCTAssertThrowsError(try JSON.parse("[1,]"))
        XCTAssertThrowsError(try JSON.parse(#"{"a":1} x"#))
        XCTAssertThrowsError(try JSON.parse(String(repeating: "[", count: 10_000)))
    }
}
