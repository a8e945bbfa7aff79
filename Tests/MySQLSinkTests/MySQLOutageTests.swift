import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// A MariaDB restart in the middle of a run is waited out, however long
/// the server is away, and every record still lands exactly once.
final class MySQLOutageTests: XCTestCase {
    /// 25 s: longer than what `max.retries` (10) and `connection.attempts`
    /// (3) used to allow before the sink gave up (about 18 s).
    func testMariaDBRestartedMidRunIsWaitedOutExactlyOnce() async throws {
        let env = try MySQLTestEnvironment.load()
        let kafka = try KafkaTestEnvironment.kafka()
        let (database, options) = try await env.freshDatabase(name)
        let total = 20_000
        let topic = KafkaTestEnvironment.unique("restart")
        let schema = Schema.struct("users", [Field("id", .int64), Field("name", Schema.string.asOptional)])
        let messages = (1...Int64(total)).map { id in
            Fixtures.message(topic: topic, offset: 0, value: SchemaAndValue(schema: schema, value: .struct([
                NamedValue("id", .int(id)), NamedValue("name", .string("user \(id)")),
            ])))
        }
        try await KafkaTestEnvironment.produce(messages, to: topic, spread: true, kafka: kafka)
        let name = KafkaTestEnvironment.unique("restart-sink")
        let sink = try MySQLSink(properties: [
            "name": name, "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": topic,
            "connection.url": "jdbc:mysql://\(options.host):\(options.port)/\(database)",
            "connection.user": options.user, "connection.password": options.password.value,
            "insert.mode": "insert", "auto.create": "true", "batch.size": "100",
            "consumer.override.session.timeout.ms": KafkaTestEnvironment.consumerProperties["session.timeout.ms"]!,
        ], kafka: kafka)
        let failure = Locked<String?>(nil)
        let running = Task {
            do { try await sink.run() } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }

        try await eventually("first rows", within: 60) { sink.throughput.total > 500 }
        try await MariaDBServer.restart(down: .seconds(25))
        XCTAssertNil(failure.value, "the sink gave up during the restart")
        let check = MySQLConnection(options: options)
        let back = Date()
        let before = try await rows(check, topic)
        try await eventually("rows again after the restart", within: 20) {
            try await rows(check, topic) > before || failure.value != nil
        }
        // The backoff cap is 2 s: a resume slower than 10 s means it is far
        // higher. The seconds themselves are measured by scripts/faults.sh.
        XCTAssertLessThan(Date().timeIntervalSince(back), 10, "slow to resume after MariaDB came back")
        try await eventually("all \(total) rows", within: 120) {
            try await rows(check, topic) >= total || failure.value != nil
        }
        XCTAssertNil(failure.value)
        running.cancel()
        try await running.value

        let counts = try await check.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM \(SQLIdentifier.quote(topic))")
        XCTAssertEqual(counts, [["\(total)", "\(total)"]], "lost or doubled rows")
        await check.close()
        await env.dropDatabase(database)
    }

    private func rows(_ check: MySQLConnection, _ table: String) async throws -> Int {
        let exists = try await check.query(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [.text(table)])
        guard !exists.isEmpty else { return 0 }
        return Int(try await check.query("SELECT COUNT(*) FROM \(SQLIdentifier.quote(table))")[0][0] ?? "0") ?? 0
    }

    /// The group coordinator down for longer than the session timeout: rows
    /// keep flowing while it is away (the advisory Kafka commit is not
    /// waited for), the run survives the rebalance when it is back, and
    /// every record lands exactly once.
    func testCoordinatorOutageDoesNotHoldUpWritesAndIsWaitedOut() async throws {
        let env = try MySQLTestEnvironment.load()
        let cluster = try EmbeddedKafka(brokers: 3)
        defer { cluster.close() }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let (database, options) = try await env.freshDatabase(name)
        let total = 20_000
        let topic = KafkaTestEnvironment.unique("coordinator")
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 3)
        let schema = Schema.struct("users", [Field("id", .int64), Field("name", Schema.string.asOptional)])
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send((1...Int64(total)).map { id in
            var message = Fixtures.message(topic: topic, offset: 0, value: SchemaAndValue(schema: schema, value: .struct([
                NamedValue("id", .int(id)), NamedValue("name", .string("user \(id)")),
            ])))
            message.partition = Int32(id % 4)
            message.offset = -1
            return message
        })
        await producer.close()
        let name = KafkaTestEnvironment.unique("coordinator-sink")
        let coordinator = cluster.brokerIDs[0]
        try cluster.setGroupCoordinator("connect-\(name)", broker: coordinator)
        let sink = try MySQLSink(properties: [
            "name": name, "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": topic,
            "connection.url": "jdbc:mysql://\(options.host):\(options.port)/\(database)",
            "connection.user": options.user, "connection.password": options.password.value,
            "insert.mode": "insert", "auto.create": "true", "batch.size": "20",
            "consumer.override.session.timeout.ms": "6000",
        ], kafka: kafka)
        let failure = Locked<String?>(nil)
        let running = Task {
            do { try await sink.run() } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
        let check = MySQLConnection(options: options)
        try await eventually("first rows", within: 60) { try await rows(check, topic) > 200 }

        try cluster.setBrokerDown(coordinator)
        let atDown = try await rows(check, topic)
        try await Task.sleep(for: .seconds(4))  // within the session: the member still fetches
        let written = try await rows(check, topic) - atDown
        try await Task.sleep(for: .seconds(11))
        try cluster.setBrokerUp(coordinator)
        XCTAssertNil(failure.value, "the sink gave up during the coordinator outage")
        XCTAssertGreaterThan(written, 500, "writes waited for the coordinator")

        try await eventually("all \(total) rows", within: 90) {
            try await rows(check, topic) >= total || failure.value != nil
        }
        XCTAssertNil(failure.value)
        running.cancel()
        try await running.value
        let counts = try await check.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM \(SQLIdentifier.quote(topic))")
        XCTAssertEqual(counts, [["\(total)", "\(total)"]], "lost or doubled rows")
        await check.close()
        await env.dropDatabase(database)
    }
}
