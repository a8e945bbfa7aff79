import Foundation
import PipelineCore
import S3Sink
import XCTest

/// Users as the seed's source writes them: Connect JSON envelopes.
enum SinkFixtures {
    static let schema = Schema.struct(
        "USERS",
        [
            Field("id", .int64), Field("name", .string), Field("region", .string),
            Field("created", LogicalType.timestamp()),
        ])

    static func value(id: Int64, region: String? = nil, created: Int64? = nil) -> SchemaAndValue {
        SchemaAndValue(
            schema: schema,
            value: .struct([
                NamedValue("id", .int(id)), NamedValue("name", .string("user \(id)")),
                NamedValue("region", .string(region ?? ["eu", "us", "ap"][Int(id % 3)])),
                NamedValue("created", .timestamp(created ?? 1_700_000_000_000 + id * 1000)),
            ]))
    }

    /// `count` messages of `size` random bytes each (which gzip cannot
    /// shrink) on P_USERS partition 0, offsets from 0.
    static func randomBytes(count: Int, size: Int, seed: UInt8) -> [KafkaMessage] {
        (0..<count).map { offset in
            KafkaMessage(
                topic: "P_USERS", partition: 0, offset: Int64(offset), key: nil,
                value: testBytes(count: size, seed: UInt8(offset) + seed))
        }
    }

    /// Messages `offsets` of `topic`/`partition`, Kafka time = created.
    static func messages(
        topic: String, partition: Int32 = 0, offsets: Range<Int64>, schemas: Bool = true,
        value: (Int64) -> SchemaAndValue? = { value(id: $0) }
    ) -> [KafkaMessage] {
        let converter = JsonConverter(schemasEnabled: schemas)
        return offsets.map { offset in
            let data = value(offset)
            return KafkaMessage(
                topic: topic, partition: partition, offset: offset, key: Array("\(offset)".utf8),
                value: try! converter.encode(data), timestamp: 1_700_000_000_000 + offset * 1000)
        }
    }

    /// The JSON line the sink writes for user `id`.
    static func line(id: Int64) -> String {
        String(decoding: try! JsonConverter(schemasEnabled: false).payloadBytes(value(id: id)), as: UTF8.self)
    }
}

/// Offsets the task committed, as the consumer would have.
final class CommitLog: Sendable {
    let commits = Locked<[[TopicPartition: Int64]]>([])
    var committer: S3SinkTask.Committer { { offsets in self.commits.withLock { $0.append(offsets) } } }
    var last: [TopicPartition: Int64] {
        commits.value.reduce(into: [:]) { result, commit in result.merge(commit) { _, new in new } }
    }
}

/// A settable clock for rotation tests.
final class TestClock: Sendable {
    let now = Locked<Int64>(1_700_000_000_000)
    var read: @Sendable () -> Int64 { { self.now.value } }
    func advance(by milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}

extension S3TestEnvironment {
    /// A sink configuration writing under a fresh `topics.dir`.
    func sinkConfig(_ test: String = #function, topic: String = "P_USERS", flushSize: Int) -> S3SinkConfig {
        var config = S3SinkConfig(
            name: "test", topics: [topic], bucket: bucket, region: region, endpoint: endpoint, flushSize: flushSize)
        config.credentials = credentials
        config.naming.topicsDir = String(Self.uniquePrefix(test).dropLast())
        config.retry = Self.quickRetry
        return config
    }

    /// What one large object became: the task that wrote it, its ETag
    /// (whose `-N` suffix counts multipart parts) and its bytes.
    struct WrittenObject {
        var task: S3SinkTask
        var etag: String
        var body: [UInt8]
    }

    /// Puts `messages` through a new task with `config` and reads back the
    /// object of P_USERS partition 0 that starts at offset 0.
    func writeFirstObject(_ messages: [KafkaMessage], config: S3SinkConfig) async throws -> WrittenObject {
        let client = try client()
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        try await task.put(messages)
        let key = "\(config.naming.topicsDir)/P_USERS/partition=0/P_USERS+0+0000000000\(config.fileExtension)"
        let head = try await client.headObject(bucket: bucket, key: key)
        return WrittenObject(task: task, etag: head?.etag ?? "-", body: try await client.getObject(bucket: bucket, key: key))
    }

    /// Every object under `prefix` with its content, by key.
    func objects(under prefix: String, client: S3Client) async throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for object in try await client.listAllObjects(bucket: bucket, prefix: prefix).objects {
            result[object.key] = try await client.getObject(bucket: bucket, key: object.key)
        }
        return result
    }
}

/// The lines of an object, without the final newline's empty line.
func lines(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}
