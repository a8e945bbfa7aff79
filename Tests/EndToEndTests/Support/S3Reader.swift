import Foundation
import PipelineCore
import S3Sink

/// The S3 sink's objects of one topic, read back the way a user would:
/// list the prefix, get each object, parse its JSON lines.
///
/// Reads are incremental so the test can poll while the pipeline runs: an
/// object is fetched again only when its ETag changes (a re-upload after a
/// restart), and an object that disappears is forgotten.
final class S3Reader: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let bucket: String
    /// `<topics.dir>/<topic>/`.
    let prefix: String
    private let clients: [S3Client]
    private var cache: [String: (etag: String, records: [S3Record])] = [:]

    /// One JSON line of an object: the row's identity.
    struct S3Record: Sendable {
        let index: Int64
        let email: String
    }

    init(environment: E2EEnvironment, topicsDir: String, topic: String) throws {
        bucket = environment.s3Bucket
        prefix = "\(topicsDir)/\(topic)/"
        let credentials = try Credentials.fromEnvironment(ProcessEnvironment.current)
        // A few clients: each runs one request at a time, and the seed's
        // flush.size of 5 makes thousands of small objects.
        clients = try (0..<4).map { _ in
            try S3Client(configuration: S3ClientConfiguration(
                region: environment.s3Region, credentials: credentials, endpoint: environment.s3Endpoint))
        }
    }

    deinit { clients.forEach { $0.shutdown() } }

    /// Every object under the prefix with its records, by key.
    func objects() async throws -> [String: [S3Record]] {
        let listed = try await clients[0].listAllObjects(bucket: bucket, prefix: prefix).objects
        let stale = listed.filter { cache[$0.key]?.etag != $0.etag }
        let fetched = try await fetch(stale)
        let keys = Set(listed.map(\.key))
        cache = cache.filter { keys.contains($0.key) }
        for (object, records) in fetched { cache[object.key] = (object.etag, records) }
        return cache.mapValues(\.records)
    }

    /// Records in all objects so far (duplicates counted).
    func recordCount() async throws -> Int {
        try await objects().values.reduce(0) { $0 + $1.count }
    }

    private func fetch(_ objects: [S3ObjectSummary]) async throws -> [(S3ObjectSummary, [S3Record])] {
        let bucket = self.bucket
        return try await withThrowingTaskGroup(of: [(S3ObjectSummary, [S3Record])].self) { group in
            for (lane, client) in clients.enumerated() {
                let share = stride(from: lane, to: objects.count, by: clients.count).map { objects[$0] }
                group.addTask {
                    var out: [(S3ObjectSummary, [S3Record])] = []
                    for object in share {
                        let bytes = try await client.getObject(bucket: bucket, key: object.key)
                        out.append((object, try Self.parse(bytes, key: object.key)))
                    }
                    return out
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// JsonFormat: one record's payload per line, each line ending in "\n".
    static func parse(_ bytes: [UInt8], key: String) throws -> [S3Record] {
        try bytes.split(separator: UInt8(ascii: "\n")).map { line in
            let json = try JSON.parse(line)
            guard case .int(let index)? = json["index"], let email = json["email"]?.stringValue else {
                throw E2EFailure("\(key) holds a line without index and email: \(String(decoding: line, as: UTF8.self))")
            }
            return S3Record(index: index, email: email)
        }
    }
}
