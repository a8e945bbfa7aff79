import Logging
import PipelineCore
@testable import SchemaRegistry
import XCTest

/// The registry library on a real broker, without HTTP.
final class SchemaRegistryStoreTests: XCTestCase {
    func testConcurrentRegistrationsGetDistinctIdsThatAReopenedRegistryKeeps() async throws {
        let topic = RegistryProcess(topic: "_schemas-store-\(UUID().uuidString.prefix(8))")
        try await topic.createTopic()
        let kafka = KafkaConfiguration(bootstrapServers: try RegistryProcess.environment("TRIBUTARY_BOOTSTRAP"))
        let registry = try SchemaRegistry(kafka: kafka, topic: topic.topic, logger: Logger(label: "test.registry"))
        try await registry.open()
        // Every registration awaits Kafka inside the actor: planned on the same state, they would share an id.
        let entries = try await withThrowingTaskGroup(of: SubjectVersion.self) { group in
            for n in 0..<8 {
                group.addTask {
                    try await registry.register(SchemaDefinition(type: .avro, text: #"{"type":"fixed","name":"F\#(n)","size":\#(n + 1)}"#), subject: "s\(n)")
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(entries.map(\.id)), Set(1...8))
        await registry.close()

        let reopened = try SchemaRegistry(kafka: kafka, topic: topic.topic, logger: Logger(label: "test.registry"))
        try await reopened.open()
        for entry in entries {
            let schema = try await reopened.state.schema(id: entry.id)
            XCTAssertEqual(schema, entry.schema, "id \(entry.id)")
        }
        await reopened.close()
    }

    func testARegistryReadsWhatAnotherWroteBeforeItWrites() async throws {
        let topic = RegistryProcess(topic: "_schemas-two-\(UUID().uuidString.prefix(8))")
        try await topic.createTopic()
        let kafka = KafkaConfiguration(bootstrapServers: try RegistryProcess.environment("TRIBUTARY_BOOTSTRAP"))
        let a = try SchemaRegistry(kafka: kafka, topic: topic.topic, logger: Logger(label: "test.a"))
        let b = try SchemaRegistry(kafka: kafka, topic: topic.topic, logger: Logger(label: "test.b"))
        try await a.open()
        try await b.open()
        let first = try await a.register(SchemaDefinition(type: .avro, text: #""int""#), subject: "one")
        let second = try await b.register(SchemaDefinition(type: .avro, text: #""long""#), subject: "two")
        let third = try await a.register(SchemaDefinition(type: .avro, text: #""long""#), subject: "three")
        XCTAssertEqual([first.id, second.id, third.id], [1, 2, 2], "b took the next id; a found b's schema and its id")
        let subjects = await a.state.subjectNames()
        XCTAssertEqual(subjects, ["one", "three", "two"])
        await a.close()
        await b.close()
    }
}
