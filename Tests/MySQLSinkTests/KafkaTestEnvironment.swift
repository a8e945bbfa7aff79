import Foundation
import PipelineCore
import XCTest

/// The broker the tests use: `TRIBUTARY_BOOTSTRAP` from `scripts/services.sh env`.
/// A missing variable fails the test.
enum KafkaTestEnvironment {
    static func kafka() throws -> KafkaConfiguration {
        guard let bootstrap = ProcessEnvironment.get("TRIBUTARY_BOOTSTRAP"), !bootstrap.isEmpty else {
            throw TestEnvironmentError("TRIBUTARY_BOOTSTRAP is not set; run `eval \"$(scripts/services.sh env)\"` first")
        }
        return KafkaConfiguration(bootstrapServers: bootstrap)
    }

    /// Consumer settings for the embedded broker: joins hang below ~3000 ms.
    static let consumerProperties = ["session.timeout.ms": "6000"]

    /// A topic name no earlier run used (the broker outlives test runs).
    static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Creates `topic` and sends `messages` to it, waiting for the acks.
    /// With `spread`, the messages go round-robin over all partitions (the
    /// embedded broker keeps only ~5 MiB per partition: spread big topics).
    /// Returns the topic's partition count (the embedded broker has no
    /// CreateTopics API and auto-creates topics with its default count).
    @discardableResult
    static func produce(_ messages: [KafkaMessage], to topic: String, spread: Bool, kafka: KafkaConfiguration) async throws -> Int {
        let admin = try KafkaAdmin(configuration: kafka)
        let partitions = try await admin.createTopic(topic, partitions: 4, replicationFactor: 1)
        let producer = try KafkaProducer(configuration: kafka)
        let sent = spread ? messages.enumerated().map { i, m in var m = m; m.partition = Int32(i % partitions); return m } : messages
        _ = try await producer.send(sent)
        await producer.close()
        return partitions
    }
}

/// Polls `condition` until it holds. The deadline only stops a broken test
/// from hanging; nothing is asserted about how long it took.
func eventually(_ what: String, within seconds: Double = 90, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        guard Date() < deadline else { throw TestEnvironmentError("gave up waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(200))
    }
}
