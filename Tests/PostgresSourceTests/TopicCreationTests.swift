import Foundation
import PipelineCore
import XCTest

@testable import PostgresSource

/// Topics the source creates before sending: KIP-158's
/// `topic.creation.default.*`, and on the embedded broker enough partitions
/// for the table's backlog.
final class TopicCreationTests: XCTestCase {
    func testKIP158KeysAreReadAndChecked() throws {
        let base = ["connection.url": "postgresql://h/db", "mode": "bulk", "topic.prefix": "x"]
        let unset = try PostgresSourceConfig(properties: base, environment: [:])
        XCTAssertNil(unset.topicCreationPartitions)
        XCTAssertNil(unset.topicCreationReplicationFactor)
        let set = try PostgresSourceConfig(properties: base.merging([
            "topic.creation.default.partitions": "12", "topic.creation.default.replication.factor": "3", "topic.creation.groups": "a,b",
        ]) { _, new in new }, environment: [:])
        XCTAssertEqual(set.topicCreationPartitions, 12)
        XCTAssertEqual(set.topicCreationReplicationFactor, 3)
        XCTAssertEqual(set.topicCreationGroups, ["a", "b"])
        let brokerDefault = try PostgresSourceConfig(properties: base.merging(["topic.creation.default.partitions": "-1"]) { _, new in new }, environment: [:])
        XCTAssertNil(brokerDefault.topicCreationPartitions)
        XCTAssertThrowsError(try PostgresSourceConfig(properties: base.merging(["topic.creation.default.partitions": "0"]) { _, new in new }, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("topic.creation.default.partitions"), "\(error)")
        }
    }

    /// No partition count configured: on the embedded broker the source
    /// sizes the topic from the table (rows x encoded record size).
    func testEmbeddedBrokerTopicGetsPartitionsForTheBacklog() async throws {
        let (cluster, table, h) = try await embeddedSetup(rows: 5_000)
        defer { cluster.close() }
        let source = PostgresSource(
            config: try PostgresSourceConfig(properties: h.properties(["mode": "incrementing", "table.whitelist": table.table])),
            producer: try KafkaProducer(configuration: cluster.configuration), kafka: cluster.configuration)
        try await source.prepareTopics()
        let partitions = try await partitionCount(h.topicPrefix + table.table, cluster)
        // 5,000 generated users are ~8 MB as Connect JSON with schemas: 1.25 MiB a partition makes 7.
        XCTAssertEqual(partitions, 7)
        await h.close()
    }

    /// An empty table's topic exists before the first row, so sinks of the
    /// same process can subscribe to it (a topic auto-created later would
    /// reach them only at their next metadata refresh).
    func testEmptyTableTopicIsCreatedBeforeTheFirstRecord() async throws {
        let (cluster, table, h) = try await embeddedSetup(rows: 0)
        defer { cluster.close() }
        let source = PostgresSource(
            config: try PostgresSourceConfig(properties: h.properties(["mode": "incrementing", "table.whitelist": table.table])),
            producer: try KafkaProducer(configuration: cluster.configuration), kafka: cluster.configuration)
        try await source.prepareTopics()
        let partitions = try await partitionCount(h.topicPrefix + table.table, cluster)
        XCTAssertEqual(partitions, EmbeddedKafka.defaultPartitions)
        await h.close()
    }

    func testConfiguredPartitionsWinOnTheEmbeddedBroker() async throws {
        let (cluster, table, h) = try await embeddedSetup(rows: 10)
        defer { cluster.close() }
        let source = PostgresSource(
            config: try PostgresSourceConfig(properties: h.properties([
                "mode": "incrementing", "table.whitelist": table.table, "topic.creation.default.partitions": "3",
            ])),
            producer: try KafkaProducer(configuration: cluster.configuration), kafka: cluster.configuration)
        try await source.prepareTopics()
        let partitions = try await partitionCount(h.topicPrefix + table.table, cluster)
        XCTAssertEqual(partitions, 3)
        await h.close()
    }

    private func embeddedSetup(rows: Int64) async throws -> (EmbeddedKafka, TableName, SourceHarness) {
        let cluster = try EmbeddedKafka(brokers: 1)
        let h = try SourceHarness()
        let table = TableName(TestEnvironment.uniqueName("USERS"))
        let writer = TableWriter(client: h.pg, table: usersTable(table, seed: 5))
        try await writer.createTableIfMissing()
        _ = try await writer.generate(GenerateOptions(rows: rows))
        return (cluster, table, h)
    }

    private func partitionCount(_ topic: String, _ cluster: EmbeddedKafka) async throws -> Int? {
        try await KafkaAdmin(configuration: cluster.configuration).topics().first { $0.name == topic }?.partitions.count
    }
}
