import PipelineCore
import XCTest

/// Avro schema JSON parsing, references and namespaces, Parsing Canonical Form.
final class AvroSchemaTests: XCTestCase {
    func testPrimitivesInBothFormsHaveTheBareCanonicalForm() throws {
        for name in ["null", "boolean", "int", "long", "float", "double", "bytes", "string"] {
            XCTAssertEqual(try AvroSchema(parsing: "\"\(name)\"").canonicalForm, "\"\(name)\"")
            XCTAssertEqual(try AvroSchema(parsing: #"{"type":"\#(name)"}"#).canonicalForm, "\"\(name)\"")
        }
    }

    func testCanonicalFormUsesFullNamesFixedOrderAndDropsDocsAndDefaults() throws {
        let schema = try AvroSchema(parsing: """
            {"namespace": "shop.v1", "type": "record", "name": "Order", "doc": "an order",
             "fields": [
               {"name": "id", "type": "long", "doc": "key"},
               {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"], "default": "NEW"}},
               {"name": "hash", "type": {"size": 4, "type": "fixed", "name": "other.Hash"}},
               {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
                   "fields": [{"name": "sku", "type": "string"}, {"name": "again", "type": ["null", "Status"], "default": null}]}}},
               {"name": "tags", "type": {"type": "map", "values": "string"}, "default": {}}
             ]}
            """)
        XCTAssertEqual(schema.canonicalForm, #"{"name":"shop.v1.Order","type":"record","fields":[{"name":"id","type":"long"},{"name":"status","type":{"name":"shop.v1.Status","type":"enum","symbols":["NEW","PAID"]}},{"name":"hash","type":{"name":"other.Hash","type":"fixed","size":4}},{"name":"lines","type":{"type":"array","items":{"name":"shop.v1.Line","type":"record","fields":[{"name":"sku","type":"string"},{"name":"again","type":["null","shop.v1.Status"]}]}}},{"name":"tags","type":{"type":"map","values":"string"}}]}"#)
        XCTAssertEqual(Set(schema.namedTypes.keys), ["shop.v1.Order", "shop.v1.Status", "other.Hash", "shop.v1.Line"])
        // The reference to Status inside Line resolves to the enum.
        guard case .record(let order) = schema.root.kind, case .array(let items) = order.fields[3].type.kind,
              case .record(let line) = schema.resolve(items).kind, case .union(let branches) = line.fields[1].type.kind
        else { return XCTFail("unexpected shape \(schema)") }
        XCTAssertEqual(branches[1].kind, .reference("shop.v1.Status"))
        guard case .enumeration(let status) = schema.resolve(branches[1]).kind else { return XCTFail("not resolved") }
        XCTAssertEqual(status.symbols, ["NEW", "PAID"])
        XCTAssertEqual(line.fields[1].defaultValue, .null)
    }

    func testRecursiveRecordRefersToItself() throws {
        let schema = try AvroSchema(parsing: #"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#)
        XCTAssertEqual(schema.canonicalForm, #"{"name":"Node","type":"record","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#)
    }

    func testLogicalTypesAndConnectPropertiesAreRead() throws {
        let schema = try AvroSchema(parsing: """
            {"type":"record","name":"USERS","namespace":"db","fields":[
              {"name":"balance","type":["null",{"type":"bytes","scale":2,"precision":10,"connect.version":1,
                 "connect.parameters":{"scale":"2","connect.decimal.precision":"10"},
                 "connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null},
              {"name":"birthdate","type":{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}},
              {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"t","type":{"type":"int","logicalType":"time-millis"}},
              {"name":"odd","type":{"type":"string","logicalType":"date"}}
            ],"connect.name":"db.USERS"}
            """)
        guard case .record(let record) = schema.root.kind, case .union(let balance) = record.fields[0].type.kind else {
            return XCTFail("unexpected shape")
        }
        XCTAssertEqual(schema.root.connectName, "db.USERS")
        XCTAssertEqual(balance[1].logicalType, .decimal(precision: 10, scale: 2))
        XCTAssertEqual(balance[1].connectName, "org.apache.kafka.connect.data.Decimal")
        XCTAssertEqual(balance[1].connectVersion, 1)
        XCTAssertEqual(balance[1].connectParameters, ["scale": "2", "connect.decimal.precision": "10"])
        XCTAssertEqual(record.fields[1].type.logicalType, .date)
        XCTAssertEqual(record.fields[2].type.logicalType, .timestampMillis)
        XCTAssertEqual(record.fields[3].type.logicalType, .timeMillis)
        // A logical type on the wrong primitive is ignored, as the spec says, and kept as a property.
        XCTAssertNil(record.fields[4].type.logicalType)
        XCTAssertEqual(record.fields[4].type.properties["logicalType"], .string("date"))
        XCTAssertEqual(schema.canonicalForm, #"{"name":"db.USERS","type":"record","fields":[{"name":"balance","type":["null","bytes"]},{"name":"birthdate","type":"int"},{"name":"at","type":"long"},{"name":"t","type":"int"},{"name":"odd","type":"string"}]}"#)
    }

    func testFullFormRoundTripsEveryAttribute() throws {
        let text = #"{"type":"record","name":"Order","namespace":"shop","doc":"d","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":3,"connect.name":"org.apache.kafka.connect.data.Decimal"},"doc":"money","default":"\u0000"},{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"],"default":"A"}},{"name":"other","type":"Kind"},{"name":"ext","type":{"type":"fixed","name":"Ext","namespace":"other","size":2}}],"connect.version":2}"#
        let schema = try AvroSchema(parsing: text)
        XCTAssertEqual(schema.text, text)
        XCTAssertEqual(try AvroSchema(parsing: schema.text), schema)
    }

    func testSchemaBuiltInCodeChecksReferences() throws {
        let record = AvroType(.record(AvroRecord(name: AvroName("R", namespace: "n"), fields: [
            AvroField("a", AvroType(.reference("n.E"))),
        ])))
        XCTAssertThrowsError(try AvroSchema(root: record)) { error in
            XCTAssertEqual("\(error)", "invalid Avro schema at fields[0]: n.E is not a defined type")
        }
        let e = AvroType(.enumeration(AvroEnum(name: AvroName("E", namespace: "n"), symbols: ["X"])))
        let ok = AvroType(.record(AvroRecord(name: AvroName("R", namespace: "n"), fields: [
            AvroField("a", e), AvroField("b", AvroType(.reference("n.E"))),
        ])))
        let schema = try AvroSchema(root: ok)
        XCTAssertEqual(schema.text, #"{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"b","type":"E"}]}"#)
        XCTAssertEqual(try AvroSchema(parsing: schema.text), schema)
    }

    func testInvalidSchemasNameTheirFault() {
        let cases: [(String, String)] = [
            (#"{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}"#, "invalid Avro schema at fields[0].type: Missing is not a defined type"),
            (#"["null","null"]"#, "invalid Avro schema: a union has two branches of type null"),
            (#"["int",["string"]]"#, "invalid Avro schema: a union may not directly contain a union"),
            (#"{"type":"enum","name":"E","symbols":["A","A"]}"#, #"invalid Avro schema: enum E has an invalid or repeated symbol "A""#),
            (#"{"type":"fixed","name":"F"}"#, #"invalid Avro schema: fixed F needs a non-negative integer "size""#),
            (#"{"type":"record","name":"1R","fields":[]}"#, #"invalid Avro schema: "1R" is not a valid Avro name"#),
            (#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"R","fields":[]}}]}"#, "invalid Avro schema at fields[0].type: R is defined twice"),
            (#"{"type":"array"}"#, #"invalid Avro schema: an array has no "items""#),
            (#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}"#, "invalid Avro schema at fields[1]: field a is defined twice"),
            ("{", "invalid Avro schema: invalid JSON at byte 1: expected a member name"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try AvroSchema(parsing: text), text) { error in
                XCTAssertEqual("\(error)", message, text)
            }
        }
    }

    /// Values from the Avro specification's test suite (CRC-64-AVRO of the canonical form).
    func testFingerprintMatchesTheSpecification() throws {
        XCTAssertEqual(try AvroSchema(parsing: #""null""#).fingerprint, 7_195_948_357_588_979_594)
    }
}
