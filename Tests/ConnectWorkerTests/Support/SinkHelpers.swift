import Foundation
import PipelineCore
import XCTest

/// What the sink tests share: records into Kafka, a sink's offsets out of the REST API.
extension InProcessWorker {
    /// JSON records `{"id":n,"name":"user n"}` (with a JsonConverter schema)
    /// for each n in `ids` on `topic` (auto-created with 4 partitions): n on
    /// partition `partition(n)`.
    func produce(_ ids: Range<Int>, to topic: String, partition: (Int) -> Int32 = { _ in 0 }) async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: environment["TRIBUTARY_BOOTSTRAP"]!))
        let schema = #"{"type":"struct","fields":[{"field":"id","type":"int32"},{"field":"name","type":"string"}]}"#
        let messages = ids.map { id in
            KafkaMessage(
                topic: topic, partition: partition(id), key: nil,
                value: Array(#"{"schema":\#(schema),"payload":{"id":\#(id),"name":"user \#(id)"}}"#.utf8))
        }
        _ = try await producer.send(messages)
        await producer.close()
    }

    /// Polls GET …/offsets until it shows `expected` (partition → offset).
    func waitForSinkOffsets(_ name: String, _ expected: [Int32: Int64], within seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var reply = try await curl("GET", "/connectors/\(name)/offsets")
        while Self.sinkOffsets(reply) != expected {
            guard Date() < deadline else { throw CurlFailure(description: "offsets never became \(expected): \(reply)") }
            try await Task.sleep(for: .milliseconds(100))
            reply = try await curl("GET", "/connectors/\(name)/offsets")
        }
    }

    private static func sinkOffsets(_ reply: Curl.Reply) -> [Int32: Int64]? {
        guard case .array(let entries)? = reply.json?["offsets"] else { return nil }
        var offsets: [Int32: Int64] = [:]
        for entry in entries {
            guard case .int(let partition)? = entry["partition"]?["kafka_partition"], case .int(let offset)? = entry["offset"]?["kafka_offset"]
            else { return nil }
            offsets[Int32(partition)] = offset
        }
        return offsets
    }
}

/// Asserts the reply's status and that its body contains `fragment`.
func expectReply(_ reply: Curl.Reply, _ code: Int, _ fragment: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(reply.status, code, "\(reply)", file: file, line: line)
    XCTAssertTrue(fragment.isEmpty || reply.text.contains(fragment), "expected '\(fragment)' in \(reply)", file: file, line: line)
}
