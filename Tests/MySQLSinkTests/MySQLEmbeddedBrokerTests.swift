import MySQLSink
import PipelineCore
import XCTest

/// On the embedded broker a sink's consumer must register with the
/// cluster's ``BacklogLimiter``: the worker's sources wait for every sink to
/// join before reading rows, and the limiter holds them back only for the
/// groups it knows. The MySQL sink once rebuilt its consumer settings from
/// the bootstrap servers alone, so `tributary demo` waited out the whole
/// 60 s join timeout, and nothing held the source back for that sink.
final class MySQLEmbeddedBrokerTests: XCTestCase {
    func testSinkJoinsTheEmbeddedClustersBacklogLimiter() async throws {
        let env = try MySQLTestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 1)
        defer { cluster.close() }
        let (database, options) = try await env.freshDatabase(name)
        let topic = KafkaTestEnvironment.unique("embedded-join")
        try cluster.createTopic(topic, partitions: 2, replicationFactor: 1)
        let sink = try MySQLSink(properties: [
            "name": KafkaTestEnvironment.unique("embedded-join-sink"),
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": topic,
            "connection.url": "jdbc:mysql://\(options.host):\(options.port)/\(database)",
            "connection.user": options.user, "connection.password": options.password.value,
            "auto.create": "true",
        ], kafka: cluster.configuration)
        let running = Task { try await sink.run() }
        defer { running.cancel() }

        let joined = try await cluster.backlog.waitUntilJoined(consumers: 1, timeout: .seconds(30))
        XCTAssertTrue(joined, "the MySQL sink's consumer never registered with the embedded cluster's backlog limiter")
        running.cancel()
        try await running.value
    }
}
