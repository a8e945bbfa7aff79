import PipelineCore

/// What the pages read from the cluster, through one `KafkaAdmin`.
/// Every call reads only what its page shows.
struct ClusterView: Sendable {
    let admin: KafkaAdmin
    let kafka: KafkaConfiguration

    struct TopicSummary: Sendable {
        var name: String
        var partitions: [(partition: Int32, leader: Int32, low: Int64, high: Int64)]
        var records: Int64 { partitions.reduce(0) { $0 + $1.high - $1.low } }
    }

    /// A group's committed offsets and lag in one topic's partitions.
    struct GroupLag: Sendable {
        var group: String
        var partitions: [(partition: Int32, committed: Int64?, high: Int64, lag: Int64)]
        var total: Int64 { partitions.reduce(0) { $0 + $1.lag } }
    }

    func topics() async throws -> [KafkaAdmin.TopicInfo] {
        try await admin.topics()
    }

    func summary(of topic: KafkaAdmin.TopicInfo) async throws -> TopicSummary {
        var partitions: [(Int32, Int32, Int64, Int64)] = []
        for p in topic.partitions {
            let marks = try await admin.watermarks(TopicPartition(topic.name, p.partition))
            partitions.append((p.partition, p.leader, marks.low, marks.high))
        }
        return TopicSummary(name: topic.name, partitions: partitions)
    }

    /// The groups the broker lists, or nil when it cannot (the embedded mock broker).
    func listedGroups() async -> [KafkaAdmin.GroupInfo]? {
        try? await admin.describeGroups()
    }

    /// `group`'s lag in `topic`; nil when the group committed nothing there.
    func lag(of group: String, in topic: TopicSummary) async throws -> GroupLag? {
        let partitions = topic.partitions.map { TopicPartition(topic.name, $0.partition) }
        let committed = try await admin.committedOffsets(group: group, partitions: partitions, configuration: kafka)
        guard !committed.isEmpty else { return nil }
        return GroupLag(
            group: group,
            partitions: topic.partitions.map { p in
                let offset = committed[TopicPartition(topic.name, p.partition)]
                return (p.partition, offset, p.high, max(0, p.high - (offset ?? p.low)))
            })
    }
}
