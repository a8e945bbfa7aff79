import CRdKafka
import Foundation
import Logging

/// A consumer-group member with manual commits.
///
/// Offsets are never committed automatically: a sink commits what its
/// destination has durably taken. Every librdkafka call runs on the consumer's
/// own thread (``BlockingWorker``); rebalance callbacks fire there too.
///
/// Where a partition resumes is decided here, not by librdkafka: a committed
/// (or sink-stored) offset below the partition's log start means records
/// were deleted before anyone consumed them, and `poll` throws
/// ``PipelineError/recordsPruned(_:committed:logStart:)`` instead of skipping ahead.
/// On the embedded broker (``KafkaConfiguration/embedded``) a partition
/// without a committed offset whose log no longer starts at 0 fails the
/// same way: the cluster lives in this process, so the missing records were
/// pruned before this group could read them.
public final class KafkaConsumer: Sendable {
    private let worker: BlockingWorker
    private let state: ConsumerState
    public let groupID: String

    /// Settings applied unless the configuration overrides them.
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "1000",
        "max.poll.interval.ms": "300000",
        "auto.offset.reset": "earliest",
        // librdkafka prefetches up to 64 MiB per consumer by default, which
        // dominated a worker's memory. 4 MiB is still far more than a sink
        // reads while the next fetch is on its way (the sinks are woken to
        // fetch as they drain it, see FetchWakeup); against 8 MiB it took a
        // 1,000,000-row run's peak from 163 to 138 MB (BENCHMARKS.md, run 14).
        "queued.max.messages.kbytes": "4096",
        "fetch.max.bytes": "16777216",
    ]

    /// Joins `groupID` and subscribes to `topics` (a name starting with `^` is a regex).
    /// With `group.instance.id` in the configuration (see
    /// ``KafkaConfiguration/staticMember(of:task:)``) it joins as a static member.
    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], hooks: RebalanceHooks = RebalanceHooks(),
        logger: Logger = Logger(label: "tributary.consumer")
    ) throws {
        self.groupID = groupID
        var properties = KafkaConsumer.defaultProperties.merging(configuration.properties) { _, user in user }
        let policy = properties["auto.offset.reset"] ?? "earliest"
        guard ["earliest", "smallest", "beginning", "latest", "largest", "end", "error", "none"].contains(policy) else {
            throw PipelineError.config(key: "auto.offset.reset", reason: "'\(policy)' is not earliest, latest or error")
        }
        // librdkafka must never reset on its own: an out-of-range position becomes an error we report.
        properties["auto.offset.reset"] = "error"
        properties["group.id"] = groupID
        let conf = try KafkaConfiguration(bootstrapServers: configuration.bootstrapServers, properties: properties)
            .makeNativeConfig(defaults: [:])
        let backlog = configuration.embedded.map { cluster in
            (limiter: cluster.backlog, id: cluster.backlog.register(group: groupID, topics: topics))
        }
        // librdkafka's own defaults where neither we nor the user set one.
        let wakeup = FetchWakeup(
            queuedMaxKilobytes: properties["queued.max.messages.kbytes"].flatMap { Int($0) } ?? 65536,
            queuedMinMessages: properties["queued.min.messages"].flatMap { Int($0) } ?? 100_000)
        let state = ConsumerState(
            groupID: groupID, hooks: hooks, resetPolicy: policy, backlog: backlog, fetchWakeup: wakeup, logger: logger)
        state.cooperativeStrategy = (properties["partition.assignment.strategy"] ?? "").contains("cooperative")
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(state).toOpaque())
        let rk: OpaquePointer
        do {
            rk = try makeKafkaHandle(RD_KAFKA_CONSUMER, conf)
        } catch {
            // A consumer that never polls must not hold producers back.
            backlog.map { $0.limiter.unregister($0.id) }
            throw error
        }
        rd_kafka_poll_set_consumer(rk)
        state.rk = rk
        let list = PartitionList.make(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            state.backlog.map { $0.limiter.unregister($0.id) }
            rd_kafka_destroy(rk)
            throw kafkaError("subscribe to \(topics.joined(separator: ","))", err)
        }
        self.state = state
        self.worker = BlockingWorker(name: "kafka-consumer-\(groupID)")
    }

    deinit {
        let state = self.state
        worker.shutdown { state.destroy() }
    }

    /// Up to `maxMessages` messages, and none after the one whose keys and
    /// values bring the batch to `maxBytes`, waiting at most `timeout` for
    /// the first and then up to `fill` for more (zero: only what is already
    /// fetched). Throws when a partition's position was pruned, when a
    /// rebalance hook failed, or on a fatal client error.
    public func poll(
        maxMessages: Int = 1000, maxBytes: Int = .max, timeout: Duration = .milliseconds(500), fill: Duration = .zero
    ) async throws -> [KafkaMessage] {
        let state = self.state
        let timeoutMs = Int32(clamping: timeout.milliseconds)
        return try await worker.run { try state.poll(maxMessages: maxMessages, maxBytes: maxBytes, timeoutMs: timeoutMs, fill: fill) }
    }

    /// Commits `offsets` (each the next offset to read, i.e. last processed + 1),
    /// synchronously unless `waitForBroker` is false: then the commit is
    /// only sent (for sinks whose destination holds the offsets that count,
    /// where a coordinator outage must not hold up the work; closing the
    /// consumer still waits for commits in flight).
    public func commit(_ offsets: [TopicPartition: Int64], waitForBroker: Bool = true) async throws {
        guard !offsets.isEmpty else { return }
        let state = self.state
        try await worker.run {
            guard let rk = state.rk else { throw PipelineError.other("consumer is closed") }
            let list = PartitionList.make(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(rk, list, waitForBroker ? 0 : 1)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError("commit offsets for group", err) }
            for (tp, _, perr) in PartitionList.entries(list) where perr != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw kafkaError("commit offset for \(tp)", perr)
            }
        }
    }

    /// The group's committed offsets for `partitions` (nil where none).
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        let state = self.state
        return try await worker.run { try state.committed(partitions) }
    }

    /// Records between this member's position in each assigned partition
    /// and the partition's end, as of the last poll (measured at most once a
    /// second, from the client's cached watermarks). Partitions not read
    /// from yet are missing.
    public var lag: [TopicPartition: Int64] { state.lag.value }

    /// The partitions currently assigned to this member.
    public func assignment() async throws -> [TopicPartition] {
        let state = self.state
        return try await worker.run { state.assigned.value.sorted() }
    }

    /// Stops fetching from `partitions` until resumed.
    public func pause(_ partitions: [TopicPartition]) async throws {
        try await setPaused(partitions, paused: true)
    }

    /// Resumes fetching from `partitions`.
    public func resume(_ partitions: [TopicPartition]) async throws {
        try await setPaused(partitions, paused: false)
    }

    private func setPaused(_ partitions: [TopicPartition], paused: Bool) async throws {
        let state = self.state
        try await worker.run {
            guard let rk = state.rk else { return }
            let list = PartitionList.make(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = paused ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(paused ? "pause" : "resume", err) }
        }
    }

    /// Leaves the group (revoking partitions through the hooks) and frees the client.
    public func close() async {
        let state = self.state
        _ = try? await worker.run { state.destroy() }
        worker.shutdown()
    }
}
