import PipelineCore
import XCTest

/// Confluent's wire format, subject names and the converter settings' keys.
final class ConfluentWireFormatTests: XCTestCase {
    func testHeaderIsMagicByteAndBigEndianID() throws {
        XCTAssertEqual(ConfluentWireFormat.header(id: 0x0102_0304), [0, 1, 2, 3, 4])
        XCTAssertEqual(try ConfluentWireFormat.schemaID([0, 0, 0, 1, 0x2c, 99]), 300)
        XCTAssertThrowsError(try ConfluentWireFormat.schemaID([])) { XCTAssertTrue("\($0)".contains("empty message"), "\($0)") }
        XCTAssertThrowsError(try ConfluentWireFormat.schemaID(Array(#"{"schema":1}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown magic byte 123"), "\($0)")
        }
        XCTAssertThrowsError(try ConfluentWireFormat.schemaID([0, 0, 1])) { XCTAssertTrue("\($0)".contains("too short"), "\($0)") }
    }

    func testSubjectNameStrategies() throws {
        XCTAssertEqual(try SubjectNameStrategy.topicName.subject(topic: "orders", isKey: true, recordName: "shop.Order"), "orders-key")
        XCTAssertEqual(try SubjectNameStrategy.topicName.subject(topic: "orders", isKey: false, recordName: nil), "orders-value")
        XCTAssertEqual(try SubjectNameStrategy.recordName.subject(topic: "orders", isKey: false, recordName: "shop.Order"), "shop.Order")
        XCTAssertEqual(try SubjectNameStrategy.topicRecordName.subject(topic: "orders", isKey: false, recordName: "shop.Order"), "orders-shop.Order")
        XCTAssertThrowsError(try SubjectNameStrategy.recordName.subject(topic: "orders", isKey: false, recordName: nil))
        XCTAssertEqual(SubjectNameStrategy(className: "TopicRecordNameStrategy"), .topicRecordName)
        XCTAssertEqual(SubjectNameStrategy(className: "io.confluent.kafka.serializers.subject.RecordNameStrategy"), .recordName)
        XCTAssertNil(SubjectNameStrategy(className: "SubjectPerTable"))
    }

    func testSettingsFromConnectorKeysKeepTheSecretHidden() throws {
        let definition = ConfigDefinition(keys: RegistryConverterSettings.converterKeys)
        let config = try ConnectorConfig([
            "value.converter": RegistryConverterSettings.avroConverterClass,
            "value.converter.schema.registry.url": "http://a:8081, http://b:8081",
            "value.converter.basic.auth.credentials.source": "USER_INFO", "value.converter.basic.auth.user.info": "alice:s3cret",
            "value.converter.auto.register.schemas": "false", "value.converter.use.latest.version": "true",
            "value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        ], definition: definition)
        let settings = try XCTUnwrap(try RegistryConverterSettings.from(config, isKey: false))
        XCTAssertEqual(settings, RegistryConverterSettings(
            urls: ["http://a:8081", "http://b:8081"], userInfo: Secret("alice:s3cret"), autoRegister: false, useLatestVersion: true,
            subjectNameStrategy: .recordName))
        XCTAssertNil(try RegistryConverterSettings.from(config, isKey: true), "the key keeps the JsonConverter")
        XCTAssertFalse("\(config)".contains("s3cret"), "\(config)")
        XCTAssertFalse("\(settings)".contains("s3cret"), "\(settings)")
        // With the JsonConverter the registry keys are Connect no-ops, named in a notice.
        let json = try ConnectorConfig(["value.converter.schema.registry.url": "http://a:8081"], definition: definition)
        XCTAssertEqual(json.ignoredKeys, ["value.converter.schema.registry.url"])
    }

    /// JSON Schemas as Confluent's JsonSchemaConverter writes them (connect.* annotations) and as plain JSON Schema.
    func testJsonSchemaMapsToConnect() throws {
        let confluent = try JSON.parse(#"{"type":"object","title":"users","properties":{"id":{"type":"integer","connect.index":0,"connect.type":"int64"},"balance":{"connect.index":2,"oneOf":[{"type":"null"},{"type":"number","title":"org.apache.kafka.connect.data.Decimal","connect.version":1,"connect.parameters":{"scale":"2"},"connect.type":"bytes"}]},"small":{"type":"integer","connect.index":1,"connect.type":"int16"},"at":{"type":"integer","title":"org.apache.kafka.connect.data.Timestamp","connect.version":1,"connect.type":"int64","connect.index":3}},"required":["id","small","at"]}"#)
        XCTAssertEqual(try JsonSchemaData.connectSchema(from: confluent), .struct("users", [
            Field("id", .int64), Field("small", .int16), Field("balance", LogicalType.decimal(scale: 2).asOptional), Field("at", LogicalType.timestamp()),
        ]))
        let plain = try JSON.parse(#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"customer","type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}},"email":{"type":["null","string"]},"extra":{"type":"object","additionalProperties":{"type":"number"}}},"required":["id","tags"]}"#)
        XCTAssertEqual(try JsonSchemaData.connectSchema(from: plain), .struct("customer", [
            Field("id", .int64), Field("tags", .array(.string)), Field("email", Schema.string.asOptional), Field("extra", .map(.string, .float64, optional: true)),
        ]))
        XCTAssertThrowsError(try JsonSchemaData.connectSchema(from: try JSON.parse(#"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#))) {
            XCTAssertTrue("\($0)".contains("oneOf of 2 non-null schemas"), "\($0)")
        }
    }
}
