import Logging
import PipelineCore

/// Sets a stopped sink's committed offsets in its consumer group, back as
/// well as forward, by joining the group for a moment and committing them.
///
/// Connect uses the admin API's alterConsumerGroupOffsets, a commit from
/// outside the group; brokers (librdkafka's mock cluster among them) refuse
/// that while the group still knows a member, and the sink's static member
/// stays known for `session.timeout.ms` after it stopped. A member's own
/// commit is accepted once the group gave it the partitions, which it does
/// as soon as the stopped task's session is over.
enum GroupOffsetCommit {
    /// How long the group may take to hand every partition over.
    static let assignmentTimeout: Duration = .seconds(45)

    /// Commits `offsets` (next offset to read) as `group`, on `configuration`'s cluster.
    /// - Throws: 409 when another member keeps some of the partitions (a
    ///   task of the connector still running somewhere).
    static func commit(_ offsets: [TopicPartition: Int64], group: String, configuration: KafkaConfiguration, logger: Logger) async throws {
        guard !offsets.isEmpty else { return }
        var member = configuration
        // A dynamic member, which leaves when closed: the sink's own static id would fence its next start.
        member.properties["group.instance.id"] = nil
        member.properties["partition.assignment.strategy"] = nil
        let consumer = try KafkaConsumer(
            configuration: await member.forGroupMember(), groupID: group, topics: Set(offsets.keys.map(\.topic)).sorted(),
            // Start where the commit will point, so no stale position is checked against the log.
            hooks: RebalanceHooks(assigned: { partitions in offsets.filter { partitions.contains($0.key) } }), logger: logger)
        do {
            let deadline = ContinuousClock.now + assignmentTimeout
            while !Set(offsets.keys).isSubset(of: try await consumer.assignment()) {
                guard ContinuousClock.now < deadline else {
                    throw ConnectRestError.conflict(
                        "Failed to alter the consumer group offsets of \(group): another member still holds some of its partitions; "
                            + "if every task of the connector is stopped, try again once its session times out")
                }
                _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(200))
            }
            try await consumer.commit(offsets)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }
}
