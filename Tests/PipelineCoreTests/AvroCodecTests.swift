import Foundation
import PipelineCore
import TestSupport
import XCTest

/// The Avro codec against fastavro (Avro's Python implementation nobody here
/// wrote): the same datum encodes to the same bytes both ways.
final class AvroCodecTests: XCTestCase {
    var usersSchema: Schema {
        .struct("db.users", [
            Field("id", .int64),
            Field("small", .int16),
            Field("name", Schema.string.asOptional),
            Field("created_at", LogicalType.timestamp(optional: true)),
            Field("balance", LogicalType.decimal(scale: 2, precision: 10, optional: true)),
            Field("birthdate", LogicalType.date(optional: true)),
            Field("alarm", LogicalType.time()),
            Field("score", Schema.float64.asOptional),
            Field("ratio", .float32),
            Field("active", .boolean),
            Field("avatar", Schema.bytes.asOptional),
            Field("tags", .array(.string)),
            Field("attributes", .map(.string, .int32)),
        ])
    }

    var usersValue: Value {
        .struct([
            NamedValue("id", .int(-7_000_000_000)),
            NamedValue("small", .int(-300)),
            NamedValue("name", .string("Ada Lovelace ✓")),
            NamedValue("created_at", .timestamp(1_700_000_000_123)),
            NamedValue("balance", .decimal(DecimalValue("-123.45")!)),
            NamedValue("birthdate", .null),
            NamedValue("alarm", .time(25_200_000)),
            NamedValue("score", .double(12.5)),
            NamedValue("ratio", .double(0.25)),
            NamedValue("active", .bool(true)),
            NamedValue("avatar", .bytes([0, 1, 255])),
            NamedValue("tags", .array([.string("a"), .string("b")])),
            NamedValue("attributes", .map([MapEntry(.string("x"), .int(1))])),
        ])
    }

    func testConnectSchemaMapsAsConfluentsAvroData() throws {
        let avro = try AvroData.avroSchema(for: usersSchema)
        XCTAssertEqual(avro.text, #"{"type":"record","name":"users","namespace":"db","fields":[{"name":"id","type":"long"},{"name":"small","type":{"type":"int","connect.type":"int16"}},{"name":"name","type":["null","string"],"default":null},{"name":"created_at","type":["null",{"type":"long","logicalType":"timestamp-millis","connect.name":"org.apache.kafka.connect.data.Timestamp","connect.version":1}],"default":null},{"name":"balance","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2,"connect.name":"org.apache.kafka.connect.data.Decimal","connect.parameters":{"connect.decimal.precision":"10","scale":"2"},"connect.version":1}],"default":null},{"name":"birthdate","type":["null",{"type":"int","logicalType":"date","connect.name":"org.apache.kafka.connect.data.Date","connect.version":1}],"default":null},{"name":"alarm","type":{"type":"int","logicalType":"time-millis","connect.name":"org.apache.kafka.connect.data.Time","connect.version":1}},{"name":"score","type":["null","double"],"default":null},{"name":"ratio","type":"float"},{"name":"active","type":"boolean"},{"name":"avatar","type":["null","bytes"],"default":null},{"name":"tags","type":{"type":"array","items":"string"}},{"name":"attributes","type":{"type":"map","values":"int"}}],"connect.name":"db.users"}"#)
        // And back: the Connect schema is the one we started from.
        XCTAssertEqual(try AvroData.connectSchema(for: avro), usersSchema)
    }

    func testRoundTripsThroughTheCodec() throws {
        let codec = try AvroCodec(connect: usersSchema)
        let bytes = try codec.encode(usersValue)
        XCTAssertEqual(try codec.decode(bytes), usersValue)
    }

    func testBytesEqualFastavrosBothWays() async throws {
        let codec = try AvroCodec(connect: usersSchema)
        let ours = try codec.encode(usersValue)
        // fastavro encodes the same datum from Python values, schemaless.
        let script = """
            import io, sys, json, datetime, decimal, fastavro
            schema = fastavro.parse_schema(json.loads(sys.argv[1]))
            datum = {"id": -7000000000, "small": -300, "name": "Ada Lovelace \\u2713",
                     "created_at": datetime.datetime.fromtimestamp(1700000000.123, datetime.timezone.utc),
                     "balance": decimal.Decimal("-123.45"), "birthdate": None,
                     "alarm": datetime.time(7, 0), "score": 12.5, "ratio": 0.25, "active": True,
                     "avatar": bytes([0, 1, 255]), "tags": ["a", "b"], "attributes": {"x": 1}}
            out = io.BytesIO()
            fastavro.schemaless_writer(out, schema, datum)
            ours = bytes.fromhex(sys.argv[2])
            back = fastavro.schemaless_reader(io.BytesIO(ours), schema)
            assert back == datum, (back, datum)
            print(out.getvalue().hex())
            """
        let theirs = try await python(script, codec.avro.text, hex(ours))
        XCTAssertEqual(theirs, hex(ours))
    }

    func testReadsFastavrosUnionsEnumsFixedAndBlocks() async throws {
        let schemaText = #"{"type":"record","name":"Event","namespace":"ev","fields":[{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},{"name":"tag","type":{"type":"fixed","name":"Tag","size":2}},{"name":"either","type":["null","int","string"]},{"name":"later","type":["string","null"],"default":"x"},{"name":"items","type":{"type":"array","items":"long"}}]}"#
        let codec = try AvroCodec(avro: try AvroSchema(parsing: schemaText))
        let script = """
            import io, sys, json, fastavro
            schema = fastavro.parse_schema(json.loads(sys.argv[1]))
            out = io.BytesIO()
            fastavro.schemaless_writer(out, schema, {"kind": "B", "tag": b"hi", "either": "s", "later": None, "items": list(range(300))})
            print(out.getvalue().hex())
            """
        let bytes = try unhex(await python(script, schemaText))
        let value = try codec.decode(bytes)
        XCTAssertEqual(value[field: "kind"], .string("B"))
        XCTAssertEqual(value[field: "tag"], .bytes(Array("hi".utf8)))
        XCTAssertEqual(value[field: "either"], .struct([NamedValue("int", .null), NamedValue("string", .string("s"))]))
        XCTAssertEqual(value[field: "later"], .null)
        XCTAssertEqual(value[field: "items"], .array((0..<300).map { .int(Int64($0)) }))
        XCTAssertEqual(try codec.encode(value), bytes)
        XCTAssertEqual(codec.connect.field(named: "later")?.schema.defaultValue, .string("x"))
    }

    func testTruncatedAndInvalidDataNameTheField() throws {
        let codec = try AvroCodec(connect: usersSchema)
        let bytes = try codec.encode(usersValue)
        XCTAssertThrowsError(try codec.decode(bytes.dropLast(3))) { error in
            XCTAssertTrue("\(error)".hasPrefix("attributes"), "\(error)")
            XCTAssertTrue("\(error)".contains("truncated Avro data"), "\(error)")
        }
        XCTAssertThrowsError(try codec.decode(bytes + [0])) { error in
            XCTAssertEqual("\(error)", "1 bytes left after the Avro datum")
        }
        var wrongBranch = try AvroCodec(connect: .struct("R", [Field("a", Schema.string.asOptional)])).encode(.struct([NamedValue("a", .null)]))
        wrongBranch[0] = 4
        XCTAssertThrowsError(try AvroCodec(connect: .struct("R", [Field("a", Schema.string.asOptional)])).decode(wrongBranch)) { error in
            XCTAssertEqual("\(error)", "a: union branch 2 of 2 at byte 1 of 1")
        }
        XCTAssertThrowsError(try codec.encode(.struct([NamedValue("id", .string("secret"))]))) { error in
            XCTAssertEqual("\(error)", "id: a string does not fit Avro long")
        }
    }

    // MARK: - Helpers

    func python(_ script: String, _ arguments: String...) async throws -> String {
        try await ChildProcess.run(["python3", "-c", script] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func unhex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }
}
