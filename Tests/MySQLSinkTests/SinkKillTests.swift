import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// Exactly once under SIGKILL: the sink process is killed several times
/// while it consumes 50,000 records in insert mode (no primary key, so any
/// duplicate would be an extra row); MySQL must end with each record once.
final class SinkKillTests: XCTestCase {
    func testKilledSeveralTimesWhileConsumingEachRecordLandsExactlyOnce() async throws {
        let env = try MySQLTestEnvironment.load()
        let kafka = try KafkaTestEnvironment.kafka()
        let (database, options) = try await env.freshDatabase(name)
        let check = MySQLConnection(options: options)
        let total = 50_000
        let topic = KafkaTestEnvironment.unique("killed")
        // Small records: the embedded broker keeps only ~5 MiB per partition.
        let schema = Schema.struct("users", [Field("id", .int64), Field("name", Schema.string.asOptional)])
        let messages = (1...Int64(total)).map { id in
            Fixtures.message(topic: topic, offset: 0, value: SchemaAndValue(schema: schema, value: .struct([
                NamedValue("id", .int(id)), NamedValue("name", .string("user \(id)")),
            ])))
        }
        try await KafkaTestEnvironment.produce(messages, to: topic, spread: true, kafka: kafka)

        let properties = [
            "name": KafkaTestEnvironment.unique("kill-sink"),
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "topics": topic,
            "connection.url": "jdbc:mysql://\(options.host):\(options.port)/\(database)",
            "connection.user": options.user,
            "connection.password": options.password.value,
            "insert.mode": "insert",
            "auto.create": "true",
            // Small batches: many transactions, so the kills land between and inside them.
            "batch.size": "250",
            "consumer.override.session.timeout.ms": KafkaTestEnvironment.consumerProperties["session.timeout.ms"]!,
        ]
        let log = NSTemporaryDirectory() + "\(topic).log"
        func rows() async throws -> Int {
            let exists = try await check.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [.text(topic)])
            guard !exists.isEmpty else { return 0 }
            return Int(try await check.query("SELECT COUNT(*) FROM \(SQLIdentifier.quote(topic))")[0][0] ?? "0") ?? 0
        }

        var killedAt: [Int] = []
        for life in 1...4 {
            let child = try SinkChildProcess.spawn(properties: properties, log: log)
            // Kill once this life has written something new: every restart
            // must pick up where MySQL's offsets say, not where Kafka's do.
            let before = try await rows()
            try await eventually("progress in life \(life) (log: \(log))", within: 180) {
                let now = try await rows()
                return now > before + 2_000 || now >= total || !child.isRunning
            }
            XCTAssertTrue(child.isRunning, "the sink exited by itself; see \(log)")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            killedAt.append(try await rows())
        }
        let last = try SinkChildProcess.spawn(properties: properties, log: log)
        try await eventually("all \(total) rows (log: \(log))", within: 300) { try await rows() >= total || !last.isRunning }
        last.terminate()  // SIGTERM: graceful
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0, "graceful stop must exit 0; see \(log)")
        print("sink killed with \(killedAt) rows written")

        let counts = try await check.query("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM \(SQLIdentifier.quote(topic))")
        XCTAssertEqual(counts, [["\(total)", "\(total)", "1", "\(total)"]])
        let stored = try await check.query("SELECT SUM(next_offset) FROM __tributary_offsets WHERE group_id = ?", [.text("connect-\(properties["name"]!)")])
        XCTAssertEqual(stored, [["\(total)"]])
        await check.close()
        await env.dropDatabase(database)
    }
}
