import Logging
import PipelineCore

/// One running worker per group: a worker joins `group.id` as a consumer
/// of the config topic's single partition and runs connectors only while
/// the group gives it that partition. The assignor is cooperative-sticky,
/// so a second worker joining a group whose partition is held gets
/// nothing, and refuses to start, instead of both running every connector.
///
/// A worker killed without leaving (SIGKILL) still holds the partition
/// until its session times out (`session.timeout.ms`); a worker started
/// after it waits that long for the lease.
public final class WorkerGroupLease: Sendable {
    private let consumer: KafkaConsumer
    /// Whether the group gives this worker the config partition now (set by the rebalance hooks).
    private let held: Locked<Bool>
    private let losses: AsyncStream<Void>.Continuation
    private let lost: AsyncStream<Void>
    private let poller: Task<Void, Never>

    private init(consumer: KafkaConsumer, held: Locked<Bool>, losses: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)) {
        self.consumer = consumer
        self.held = held
        self.lost = losses.stream
        self.losses = losses.continuation
        poller = Task {
            // Polling serves the group's rebalances; the config records it fetches are not needed here.
            while !Task.isCancelled {
                do {
                    _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    /// Joins `storage`'s group and waits until it holds the config topic's
    /// partition; throws, naming the group, when another live worker still
    /// holds it after the session timeout plus 8 s (a killed worker's
    /// session has expired by then, with room for the group's rebalances).
    static func acquire(_ storage: WorkerSettings.DistributedStorage, kafka: KafkaConfiguration, logger: Logger) async throws
        -> WorkerGroupLease
    {
        let partition = TopicPartition(storage.configTopic, 0)
        let held = Locked(false)
        let losses = AsyncStream<Void>.makeStream()
        let hooks = RebalanceHooks(
            assigned: { partitions in
                if partitions.contains(partition) { held.withLock { $0 = true } }
                return [:]
            },
            revoked: { partitions in
                guard partitions.contains(partition) else { return }
                held.withLock { $0 = false }
                losses.continuation.yield()
            })
        let consumer = try KafkaConsumer(
            configuration: kafka.with([
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": "\(storage.sessionTimeoutMilliseconds)",
                "heartbeat.interval.ms": "\(storage.heartbeatIntervalMilliseconds)",
            ]),
            groupID: storage.groupID, topics: [storage.configTopic], hooks: hooks, logger: logger)
        let lease = WorkerGroupLease(consumer: consumer, held: held, losses: losses)
        logger.notice("joining worker group \(storage.groupID)")
        let deadline = ContinuousClock.now + .milliseconds(storage.sessionTimeoutMilliseconds + 8_000)
        while !held.value {
            guard ContinuousClock.now < deadline else {
                await lease.release()
                throw PipelineError.config(
                    key: "group.id",
                    reason: "another worker of group \(storage.groupID) is running (it holds \(partition)); "
                        + "one worker per group runs the group's connectors here: stop the other one, "
                        + "or give this one a group.id and topics of its own")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        logger.notice("worker group \(storage.groupID): this worker holds \(partition) and runs the group's connectors")
        return lease
    }

    /// Whether the group gives this worker the config partition now.
    var isHeld: Bool { held.value }

    /// Returns when the group took the partition away (the worker's session
    /// expired, e.g. the broker was unreachable longer than the session
    /// timeout); returns at once if it is not held. Ends on cancellation.
    func waitUntilLost() async {
        guard held.value else { return }
        for await _ in lost { return }
    }

    /// Leaves the group, so the next worker gets the partition at once.
    public func release() async {
        poller.cancel()
        await poller.value
        losses.finish()
        await consumer.close()
    }
}
