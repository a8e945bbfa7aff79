@testable import SchemaRegistry
import XCTest

/// Avro's schema resolution rules as the registry applies them: reader against writer.
final class AvroCompatibilityTests: XCTestCase {
    func record(_ fields: String, name: String = "User", extra: String = "") -> String {
        #"{"type":"record","name":"\#(name)","namespace":"t"\#(extra),"fields":[\#(fields)]}"#
    }

    func problems(reader: String, writer: String) -> [String] { AvroCompatibility.problems(reader: reader, writer: writer) }

    func testAnAddedFieldNeedsADefault() {
        let v1 = record(#"{"name":"id","type":"long"}"#)
        let withDefault = record(#"{"name":"id","type":"long"},{"name":"e","type":["null","string"],"default":null}"#)
        let without = record(#"{"name":"id","type":"long"},{"name":"age","type":"int"}"#)
        XCTAssertEqual(problems(reader: withDefault, writer: v1), [])
        XCTAssertEqual(problems(reader: without, writer: v1), ["/fields/age: the reader's field has no default and the writer does not write it"])
        XCTAssertEqual(problems(reader: v1, writer: without), [], "a field the reader lacks is skipped")
    }

    func testPromotionsGoOneWay() {
        for (writer, reader) in [("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"), ("float", "double"), ("string", "bytes"), ("bytes", "string")] {
            XCTAssertEqual(problems(reader: #""\#(reader)""#, writer: #""\#(writer)""#), [], "\(writer) -> \(reader)")
        }
        for (writer, reader) in [("long", "int"), ("double", "float"), ("string", "int"), ("boolean", "int")] {
            XCTAssertEqual(problems(reader: #""\#(reader)""#, writer: #""\#(writer)""#).count, 1, "\(writer) -> \(reader)")
        }
        let v1 = record(#"{"name":"n","type":"int"}"#), v2 = record(#"{"name":"n","type":"long"}"#)
        XCTAssertEqual(problems(reader: v2, writer: v1), [])
        XCTAssertEqual(problems(reader: v1, writer: v2), ["/fields/n/: the reader's int cannot read the writer's long"])
    }

    func testEnumSymbolsMustBeKnownUnlessTheReaderHasADefault() {
        let abc = #"{"type":"enum","name":"E","symbols":["A","B","C"]}"#, ab = #"{"type":"enum","name":"E","symbols":["A","B"]}"#
        let abDefault = #"{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}"#
        XCTAssertEqual(problems(reader: abc, writer: ab), [])
        XCTAssertEqual(problems(reader: ab, writer: abc).count, 1)
        XCTAssertTrue(problems(reader: ab, writer: abc)[0].contains("C"))
        XCTAssertEqual(problems(reader: abDefault, writer: abc), [])
    }

    func testUnions() {
        XCTAssertEqual(problems(reader: #"["null","string"]"#, writer: #""string""#), [], "a reader union reads a writer's branch")
        XCTAssertEqual(problems(reader: #""string""#, writer: #"["null","string"]"#).count, 1, "the writer's null is unreadable")
        XCTAssertEqual(problems(reader: #"["null","long"]"#, writer: #"["null","int"]"#), [], "branch by branch, with promotion")
        XCTAssertEqual(problems(reader: #"["null","int"]"#, writer: #""string""#).count, 1)
    }

    func testNamesAliasesFixedAndContainers() {
        let old = record(#"{"name":"id","type":"long"}"#, name: "Old")
        XCTAssertEqual(problems(reader: record(#"{"name":"id","type":"long"}"#, name: "New"), writer: old).count, 1)
        XCTAssertEqual(problems(reader: record(#"{"name":"id","type":"long"}"#, name: "New", extra: #","aliases":["Old"]"#), writer: old), [])
        let renamedField = record(#"{"name":"key","type":"long","aliases":["id"]}"#, name: "Old")
        XCTAssertEqual(problems(reader: renamedField, writer: old), [], "a field alias reads the writer's field")
        XCTAssertEqual(problems(reader: #"{"type":"fixed","name":"F","size":4}"#, writer: #"{"type":"fixed","name":"F","size":8}"#).count, 1)
        XCTAssertEqual(problems(reader: #"{"type":"array","items":"long"}"#, writer: #"{"type":"array","items":"int"}"#), [])
        XCTAssertEqual(problems(reader: #"{"type":"map","values":"int"}"#, writer: #"{"type":"map","values":"long"}"#).count, 1)
        let list = #"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#
        XCTAssertEqual(problems(reader: list, writer: list), [], "a recursive type matches itself")
    }

    func testLevelsPickDirectionAndVersions() {
        let rules = SchemaCompatibility()
        func avro(_ text: String) -> SchemaDefinition { SchemaDefinition(type: .avro, text: text) }
        let v1 = avro(record(#"{"name":"id","type":"long"}"#))
        let v2 = avro(record(#"{"name":"id","type":"long"},{"name":"n","type":"string","default":""}"#))
        let v3 = avro(record(#"{"name":"n","type":"string","default":""}"#))  // drops id, which has no default
        XCTAssertEqual(rules.problems(v3, against: [v1, v2], level: .backward), [])
        XCTAssertEqual(rules.problems(v3, against: [v1, v2], level: .forward).count, 1, "v2 cannot read v3: id has no default")
        XCTAssertEqual(rules.problems(v3, against: [v1, v2], level: .full).count, 1)
        let v4 = avro(record(#"{"name":"id","type":"long"},{"name":"n","type":"string"}"#))
        XCTAssertEqual(rules.problems(v4, against: [v2], level: .backward), [])
        XCTAssertEqual(rules.problems(v4, against: [v1, v2], level: .backwardTransitive).count, 1, "v4 cannot read v1: n has no default")
        XCTAssertEqual(rules.problems(v4, against: [v1, v2], level: .fullTransitive).count, 1)
    }

    func testInvalidAvroIsRefusedWithConfluentsCode() {
        XCTAssertThrowsError(try SchemaCanonicalForm.canonical(#"{"type":"recurd","name":"X"}"#, type: .avro, references: [])) {
            XCTAssertEqual(($0 as? RegistryError)?.code, 42201)
        }
        XCTAssertEqual(
            try SchemaCanonicalForm.canonical(#"{ "type" : "string" }"#, type: .avro, references: []),
            try SchemaCanonicalForm.canonical(#""string""#, type: .avro, references: []), "the same schema written differently is the same text")
    }
}
