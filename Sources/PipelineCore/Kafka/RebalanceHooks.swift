/// Callbacks a sink gives its consumer to take part in partition rebalances.
///
/// Both run on the consumer's own thread, inside `poll`, while the sink is
/// waiting for that poll: they never race with the sink's processing.
public struct RebalanceHooks: Sendable {
    /// Partitions were assigned. Return the offsets to start from for any of
    /// them (for example offsets the sink stored in its own database in the
    /// same transaction as the data); the rest start at the group's committed
    /// offset, or per `auto.offset.reset` when the group has none.
    public var assigned: @Sendable ([TopicPartition]) throws -> [TopicPartition: Int64]
    /// Partitions are being taken away: drop any state buffered for them.
    public var revoked: @Sendable ([TopicPartition]) -> Void

    public init(
        assigned: @escaping @Sendable ([TopicPartition]) throws -> [TopicPartition: Int64] = { _ in [:] },
        revoked: @escaping @Sendable ([TopicPartition]) -> Void = { _ in }
    ) {
        self.assigned = assigned
        self.revoked = revoked
    }
}
