import PipelineCore
@testable import SchemaRegistry
import XCTest

/// The registry's rules without Kafka: ids, versions, deletions, levels and the records they write.
final class RegistryStateTests: XCTestCase {
    let rules = SchemaCompatibility()

    func avro(_ text: String) -> SchemaDefinition { SchemaDefinition(type: .avro, text: text) }

    /// Plans and applies a registration, as the registry does after the write.
    @discardableResult
    func register(_ schema: SchemaDefinition, _ subject: String, in state: inout RegistryState) throws -> SubjectVersion {
        switch try state.planRegistration(schema, in: subject, compatibility: rules) {
        case .existing(let entry): return entry
        case .new(let entry):
            state.apply(.schema(entry))
            return entry
        }
    }

    func testTheSameSchemaIsTheSameVersionAndIdEverywhere() throws {
        var state = RegistryState()
        let a = try register(avro(#""int""#), "a-value", in: &state)
        XCTAssertEqual([a.id, a.version], [1, 1])
        XCTAssertEqual(try state.planRegistration(avro(#""int""#), in: "a-value", compatibility: rules), .existing(a))
        let b = try register(avro(#""int""#), "b-value", in: &state)
        XCTAssertEqual([b.id, b.version], [1, 1], "an id is global: the same schema in another subject keeps it")
        let c = try register(avro(#""long""#), "a-value", in: &state)
        XCTAssertEqual([c.id, c.version], [2, 2])
        XCTAssertEqual(try state.schema(id: 2).text, #""long""#)
        XCTAssertEqual(try state.usages(of: 1).map(\.subject), ["a-value", "b-value"])
        XCTAssertEqual(try state.lookup(avro(#""int""#), in: "a-value").version, 1)
        XCTAssertEqual(try state.version(.latest, of: "a-value").version, 2)
    }

    func testUnknownSubjectVersionAndIdAreConfluentsCodes() {
        var state = RegistryState()
        XCTAssertThrowsError(try state.versions(of: "x")) { XCTAssertEqual(($0 as? RegistryError)?.code, 40401) }
        XCTAssertThrowsError(try state.schema(id: 7)) { XCTAssertEqual(($0 as? RegistryError)?.code, 40403) }
        state.apply(.schema(SubjectVersion(subject: "x", version: 1, id: 1, schema: avro(#""int""#))))
        XCTAssertThrowsError(try state.version(.number(5), of: "x")) { XCTAssertEqual(($0 as? RegistryError)?.code, 40402) }
        XCTAssertThrowsError(try state.lookup(avro(#""long""#), in: "x")) { XCTAssertEqual(($0 as? RegistryError)?.code, 40403) }
        XCTAssertThrowsError(try VersionSelector(parsing: "0")) { XCTAssertEqual(($0 as? RegistryError)?.code, 42202) }
        XCTAssertThrowsError(try VersionSelector(parsing: "two")) { XCTAssertEqual(($0 as? RegistryError)?.code, 42202) }
        XCTAssertEqual(try VersionSelector(parsing: "-1"), .latest)
    }

    func testDeletionIsSoftFirstThenPermanent() throws {
        var state = RegistryState()
        try register(avro(#""int""#), "s", in: &state)
        try register(avro(#""long""#), "s", in: &state)
        XCTAssertThrowsError(try state.planVersionDeletion(.number(1), of: "s", permanent: true)) {
            XCTAssertEqual(($0 as? RegistryError)?.code, 40407)
        }
        let soft = try state.planVersionDeletion(.number(1), of: "s", permanent: false)
        state.apply(soft.record)
        XCTAssertEqual(try state.versions(of: "s"), [2])
        XCTAssertEqual(try state.versions(of: "s", includeDeleted: true), [1, 2])
        XCTAssertEqual(try state.schema(id: 1).text, #""int""#, "a soft-deleted version is still readable by id")
        XCTAssertThrowsError(try state.planVersionDeletion(.number(1), of: "s", permanent: false)) {
            XCTAssertEqual(($0 as? RegistryError)?.code, 40406)
        }
        XCTAssertThrowsError(try state.planSubjectDeletion("s", permanent: true)) { XCTAssertEqual(($0 as? RegistryError)?.code, 40405) }
        let subject = try state.planSubjectDeletion("s", permanent: false)
        XCTAssertEqual(subject.versions, [2])
        XCTAssertEqual(subject.records, [.deleteSubject(subject: "s", version: 2)])
        for record in subject.records { state.apply(record) }
        XCTAssertEqual(state.subjectNames(), [])
        XCTAssertEqual(state.subjectNames(includeDeleted: true), ["s"])
        XCTAssertThrowsError(try state.planSubjectDeletion("s", permanent: false)) { XCTAssertEqual(($0 as? RegistryError)?.code, 40404) }
        let permanent = try state.planSubjectDeletion("s", permanent: true)
        XCTAssertEqual(permanent.versions, [1, 2])
        for record in permanent.records { state.apply(record) }
        XCTAssertThrowsError(try state.schema(id: 1)) { XCTAssertEqual(($0 as? RegistryError)?.code, 40403) }
        XCTAssertEqual(try register(avro(#""float""#), "s", in: &state).id, 3, "ids are never handed out twice")
    }

    func testReferencesMustExist() throws {
        var state = RegistryState()
        let referring = SchemaDefinition(type: .avro, text: #"{"type":"record","name":"O","fields":[{"name":"c","type":"C"}]}"#,
            references: [SchemaReference(name: "C", subject: "c-value", version: 1)])
        XCTAssertThrowsError(try state.planRegistration(referring, in: "o-value", compatibility: rules)) {
            XCTAssertEqual(($0 as? RegistryError)?.code, 42201)
        }
        try register(avro(#"{"type":"record","name":"C","fields":[]}"#), "c-value", in: &state)
        XCTAssertEqual(try register(referring, "o-value", in: &state).id, 2)
    }

    func testLevelsDefaultToBackwardAndSubjectsOverrideTheGlobalOne() {
        var state = RegistryState()
        XCTAssertEqual(state.effectiveLevel("s"), .backward)
        XCTAssertNil(state.configuredLevel("s"))
        state.apply(.config(subject: nil, level: .full))
        state.apply(.config(subject: "s", level: CompatibilityLevel.none))
        XCTAssertEqual(state.effectiveLevel("s"), CompatibilityLevel.none)
        XCTAssertEqual(state.effectiveLevel("t"), .full)
        state.apply(.config(subject: "s", level: nil))
        XCTAssertEqual(state.effectiveLevel("s"), .full)
        XCTAssertEqual(CompatibilityLevel(parsing: "forward_transitive"), .forwardTransitive)
    }

    func testAJSONSchemaThatRequiresANewPropertyIsNotBackwardCompatible() throws {
        var state = RegistryState()
        let v1 = SchemaDefinition(type: .json, text: #"{"type":"object","properties":{"id":{"type":"integer"}}}"#)
        let v2 = SchemaDefinition(type: .json, text: #"{"type":"object","properties":{"id":{"type":"number"},"n":{"type":"string"}}}"#)
        let v3 = SchemaDefinition(type: .json, text: #"{"type":"object","properties":{"id":{"type":"number"},"n":{"type":"string"}},"required":["n"]}"#)
        try register(v1, "j", in: &state)
        XCTAssertEqual(try register(v2, "j", in: &state).version, 2, "integer widens to number; a new optional property is fine")
        XCTAssertThrowsError(try state.planRegistration(v3, in: "j", compatibility: rules)) { error in
            XCTAssertEqual((error as? RegistryError)?.status, 409)
            XCTAssertTrue((error as? RegistryError)?.message.contains("properties/n: required by the reader") == true, "\(error)")
        }
        let narrowed = SchemaDefinition(type: .json, text: #"{"type":"object","properties":{"id":{"type":"string"}}}"#)
        XCTAssertEqual(rules.problems(narrowed, against: [v1], level: .backward).count, 1)
        XCTAssertEqual(rules.problems(v3, against: [v1], level: CompatibilityLevel.none), [])
        XCTAssertEqual(rules.problems(avro(#""int""#), against: [v1], level: .backward), ["the schema type changed from JSON to AVRO"])
    }

    func testRecordsRoundTripInConfluentsFormat() throws {
        let entry = SubjectVersion(
            subject: "t-value", version: 3, id: 21,
            schema: SchemaDefinition(type: .json, text: #"{"type":"object"}"#, references: [SchemaReference(name: "r", subject: "r-value", version: 1)]))
        let records: [RegistryRecord] = [
            .schema(entry), .schemaRemoved(subject: "t-value", version: 3), .config(subject: nil, level: .full),
            .config(subject: "t-value", level: nil), .deleteSubject(subject: "t-value", version: 3), .clearSubject(subject: "t-value"), .noop,
        ]
        for record in records {
            let (key, value) = record.encoded
            XCTAssertEqual(try RegistryRecord.decode(key: key, value: value, position: "_schemas-0@0"), record)
        }
        XCTAssertEqual(
            String(decoding: RegistryRecord.schema(entry).encoded.key, as: UTF8.self), #"{"keytype":"SCHEMA","subject":"t-value","version":3,"magic":1}"#)
        XCTAssertEqual(
            String(decoding: RegistryRecord.config(subject: nil, level: .full).encoded.value!, as: UTF8.self), #"{"compatibilityLevel":"FULL"}"#)
    }

    func testRecordsConfluentWroteAreRead() throws {
        // As Confluent Schema Registry writes them (Avro: no schemaType; older configs name the subject null).
        let schema = try RegistryRecord.decode(
            key: Array(#"{"keytype":"SCHEMA","subject":"p-value","version":1,"magic":1}"#.utf8),
            value: Array(#"{"subject":"p-value","version":1,"id":1,"schema":"\"string\"","deleted":false}"#.utf8), position: "_schemas-0@0")
        XCTAssertEqual(schema, .schema(SubjectVersion(subject: "p-value", version: 1, id: 1, schema: avro(#""string""#))))
        let config = try RegistryRecord.decode(
            key: Array(#"{"keytype":"CONFIG","subject":null,"magic":0}"#.utf8), value: Array(#"{"compatibilityLevel":"NONE"}"#.utf8),
            position: "_schemas-0@1")
        XCTAssertEqual(config, .config(subject: nil, level: CompatibilityLevel.none))
        XCTAssertNil(try RegistryRecord.decode(key: Array(#"{"keytype":"MODE","magic":0}"#.utf8), value: nil, position: "_schemas-0@2"))
        XCTAssertThrowsError(try RegistryRecord.decode(key: Array("{".utf8), value: nil, position: "_schemas-0@3")) {
            XCTAssertTrue("\($0)".contains("_schemas-0@3"), "the error names the record: \($0)")
        }
    }

    func testRoutesMatchConfluentsEndpoints() throws {
        XCTAssertEqual(try RegistryRoute.match(method: "POST", path: "/subjects/a%2Fb/versions"), .register("a/b"))
        XCTAssertEqual(try RegistryRoute.match(method: "GET", path: "/subjects/s/versions/latest"), .version("s", .latest))
        XCTAssertEqual(try RegistryRoute.match(method: "DELETE", path: "/subjects/s/versions/2"), .deleteVersion("s", .number(2)))
        XCTAssertEqual(try RegistryRoute.match(method: "GET", path: "/schemas/ids/4"), .schemaByID(4))
        XCTAssertEqual(try RegistryRoute.match(method: "POST", path: "/compatibility/subjects/s/versions/latest"), .compatibility("s", .latest))
        XCTAssertEqual(try RegistryRoute.match(method: "PUT", path: "/config/s"), .config("s", method: "PUT"))
        XCTAssertEqual(try RegistryRoute.match(method: "DELETE", path: "/config"), .config(nil, method: "DELETE"))
        XCTAssertThrowsError(try RegistryRoute.match(method: "PUT", path: "/subjects")) { XCTAssertEqual(($0 as? RegistryError)?.status, 405) }
        XCTAssertThrowsError(try RegistryRoute.match(method: "GET", path: "/nothing")) { XCTAssertEqual(($0 as? RegistryError)?.status, 404) }
        XCTAssertThrowsError(try RegistryRoute.match(method: "GET", path: "/subjects/s/versions/x")) { XCTAssertEqual(($0 as? RegistryError)?.code, 42202) }
    }
}
