import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Debezium change events (as PostgresCDCSource and Debezium write them) land
/// in S3 as JSON lines, each the event's payload as received, `op` included;
/// tombstones are skipped with `behavior.on.null.values=ignore`.
final class ChangeEventObjectTests: XCTestCase {
    static let schema = #"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"srv.public.t.Value","field":"before"},{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"srv.public.t.Value","field":"after"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"connector"},{"type":"int64","optional":true,"field":"lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}],"optional":false,"name":"srv.public.t.Envelope"}"#

    static let payloads = [
        #"{"before":null,"after":{"id":1,"name":"ann"},"source":{"connector":"postgresql","lsn":100},"op":"c","ts_ms":1700000000000}"#,
        #"{"before":null,"after":{"id":1,"name":"bea"},"source":{"connector":"postgresql","lsn":200},"op":"u","ts_ms":1700000000001}"#,
        #"{"before":{"id":1,"name":null},"after":null,"source":{"connector":"postgresql","lsn":300},"op":"d","ts_ms":1700000000002}"#,
        // A truncate (skipped.operations=none on the source): no key, no before or after.
        #"{"before":null,"after":null,"source":{"connector":"postgresql","lsn":400},"op":"t","ts_ms":1700000000003}"#,
    ]

    func testChangeEventsAreWrittenAsJSONLinesAsReceived() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        var config = env.sinkConfig("cdc-events", flushSize: 4)
        config.nullValues = .ignore
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        var messages = Self.payloads.enumerated().map { i, payload in
            KafkaMessage(topic: "srv.public.t", partition: 0, offset: Int64(i < 3 ? i : i + 1), key: payload.contains(#""op":"t""#) ? nil : Array(#"{"id":1}"#.utf8),
                         value: Array((#"{"schema":"# + Self.schema + #","payload":"# + payload + "}").utf8))
        }
        // The tombstone after the delete (ignored), before the truncate.
        messages.insert(KafkaMessage(topic: "srv.public.t", partition: 0, offset: 3, key: Array(#"{"id":1}"#.utf8), value: nil), at: 3)
        // The object is complete once a record after its last one arrives (as Confluent's sink rotates).
        messages.append(KafkaMessage(topic: "srv.public.t", partition: 0, offset: 5, key: nil, value: messages[0].value))
        try await task.put(messages)
        let key = "\(config.naming.topicsDir)/srv.public.t/partition=0/srv.public.t+0+0000000000.json"
        let body = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), Self.payloads.joined(separator: "\n") + "\n")
    }
}
