import Foundation
import PipelineCore
import XCTest

/// Servers started by scripts/services.sh. A missing variable fails the test:
/// a test that silently skips when its server is absent could never fail.
enum TestEnvironment {
    static func require(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            XCTFail("\(name) is not set: run the tests through scripts/test.sh (or source .state/services/env)", file: file, line: line)
            throw PipelineError.other("\(name) is not set")
        }
        return value
    }

    static func kafka() throws -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: try require("TRIBUTARY_BOOTSTRAP"))
    }

    /// The broker with consumer settings that suit it.
    static func consumerKafka() throws -> KafkaConfiguration {
        try kafka().with(consumerProperties)
    }

    /// A name no other test run has used (the broker outlives test runs).
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Consumer settings that suit the embedded broker (see DESIGN.md).
    static let consumerProperties = ["session.timeout.ms": "6000"]
}

extension KafkaConsumer {
    /// Polls until `count` messages arrived or `deadline` passed.
    func drain(count: Int, within seconds: Double = 60) async throws -> [KafkaMessage] {
        var out: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(seconds)
        while out.count < count && Date() < deadline {
            out += try await poll(maxMessages: 10_000, timeout: .milliseconds(200))
        }
        return out
    }
}

/// Messages with distinct keys and values `prefix-i`.
func numberedMessages(topic: String, count: Int, prefix: String = "m") -> [KafkaMessage] {
    (0..<count).map { i in
        KafkaMessage(topic: topic, key: Array("k\(i)".utf8), value: Array("\(prefix)-\(i)".utf8), headers: [Header("n", text: String(i))])
    }
}

/// The next offsets to commit for everything in `messages`.
func nextOffsets(_ messages: [KafkaMessage]) -> [TopicPartition: Int64] {
    var out: [TopicPartition: Int64] = [:]
    for m in messages { out[m.topicPartition] = max(out[m.topicPartition] ?? 0, m.offset + 1) }
    return out
}
