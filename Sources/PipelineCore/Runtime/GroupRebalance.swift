/// An offset commit refused because the consumer group is rebalancing (or
/// this member was fenced while the coordinator was away).
///
/// Thrown by ``SinkTaskContext/commit(_:)``. Data already written stays; its
/// offsets are not committed. ``SinkRunner`` then closes every partition the
/// task holds and drops messages until the rebalance revokes the partitions,
/// which then resume at their committed offsets: writing on meanwhile would
/// start files at offsets past the committed ones.
public struct GroupRebalance: Error, Sendable, CustomStringConvertible {
    /// REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID.
    public static let codes: Set<Int32> = [27, 22, 25, 82]
    /// The offsets whose commit was refused.
    public var offsets: [TopicPartition: Int64]

    public var description: String {
        "commit of \(offsets.keys.sorted().map(\.description).joined(separator: ", ")) refused: the group is rebalancing"
    }
}
