/// The revocations a runner's consumer reported, numbered in order; its
/// rebalance hook records them on the consumer's thread, the runner takes
/// them before each put.
final class SinkRevocations: Sendable {
    private struct State {
        var count = 0
        /// Revocations not yet taken: (number, partitions).
        var log: [(number: Int, partitions: [TopicPartition])] = []
    }
    private let state = Locked(State())

    func record(_ partitions: [TopicPartition]) {
        state.withLock { state in
            state.count += 1
            state.log.append((state.count, partitions))
        }
    }

    /// How many revocations happened so far: a poll's mark, read when it ends.
    var count: Int { state.withLock { $0.count } }

    /// Every partition revoked since the last call, in the order revoked, and
    /// those revoked after revocation `mark` (which a batch polled before
    /// `mark`'s successors must lose); forgets them.
    func take(after mark: Int) -> (all: [TopicPartition], since: Set<TopicPartition>) {
        state.withLock { state in
            defer { state.log = [] }
            var all: [TopicPartition] = []
            var seen: Set<TopicPartition> = []
            for entry in state.log { for tp in entry.partitions where seen.insert(tp).inserted { all.append(tp) } }
            let since = Set(state.log.filter { $0.number > mark }.flatMap(\.partitions))
            return (all, since)
        }
    }
}
