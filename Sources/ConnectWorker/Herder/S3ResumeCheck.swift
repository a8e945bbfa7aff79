import PipelineCore
import S3Sink

/// Refuses an S3 sink offset change that would archive records twice or
/// replace objects with different content (``ResumePoint``), looking at the
/// objects the bucket holds now.
enum S3ResumeCheck {
    static func verify(_ targets: [TopicPartition: Int64], committed: [TopicPartition: Int64], config: S3SinkConfig) async throws {
        let client = try S3Client(configuration: config.clientConfiguration())
        defer { client.shutdown() }
        let point = ResumePoint(config: config)
        var keysByTopic: [String: [String]] = [:]
        for topic in Set(targets.keys.map(\.topic)) {
            keysByTopic[topic] = try await client.listAllObjects(bucket: config.bucket, prefix: config.naming.topicPrefix(topic)).objects.map(\.key)
        }
        for (tp, offset) in targets.sorted(by: { $0.key < $1.key }) {
            let objects = point.objects(of: tp, in: keysByTopic[tp.topic] ?? [])
            if let problem = point.problem(tp, at: offset, committed: committed[tp], objects: objects) {
                throw ConnectRestError.badRequest("Cannot alter the offsets of this connector: \(problem)")
            }
        }
    }
}
