import CRdKafka

/// An in-memory Kafka cluster: librdkafka's mock cluster, a real
/// Kafka-protocol broker implemented in C, listening on random loopback ports.
///
/// It is the default when no `bootstrap.servers` is given, and what tests use.
/// Limits to respect: data is memory-only (a restart loses every topic), each
/// partition keeps ``retainedBytesPerPartition`` before pruning old data, and
/// aborted transactions stay visible. Faults (broker down/up, latency, request
/// errors) can be injected, which tests use to prove delivery guarantees.
///
/// Clients made from ``configuration`` know they talk to this in-process
/// cluster: producers wait while this process's consumers lag close to what
/// the cluster keeps (``backlog``), consumers fail rather than start past
/// pruned records, and ``KafkaAdmin/createTopic(_:partitions:replicationFactor:config:)``
/// creates topics with the partition count asked for.
public final class EmbeddedKafka: @unchecked Sendable {
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    private let lock = Locked(false)
    /// `host:port,...` for clients' `bootstrap.servers`.
    public let bootstrapServers: String
    /// Broker ids, 1...N.
    public let brokerIDs: [Int32]
    /// Holds this process's producers back while its consumers lag close to
    /// what each partition keeps (see ``BacklogLimiter``).
    public let backlog = BacklogLimiter(limits: .embedded)

    /// What one partition keeps before the oldest record batches are deleted:
    /// librdkafka's mock cluster keeps 5 MiB of record batches (measured in
    /// batch bytes on the wire, overhead included), or 100,000 batches,
    /// whichever is reached first (`rd_kafka_mock_partition_t.max_size`, `max_cnt`).
    public static let retainedBytesPerPartition = 5 * 1024 * 1024
    /// The batch-count side of the same limit.
    public static let retainedBatchesPerPartition = 100_000
    /// The most partitions ``partitions(forBacklogBytes:)`` picks: more would
    /// only let the source run further ahead of the sinks (``backlog`` holds it
    /// back beyond that), and each costs up to 5 MiB of memory.
    public static let maximumEstimatedPartitions = 64
    /// What auto-created topics get.
    public static let defaultPartitions = 4

    /// Settings for clients of this cluster (they carry the cluster itself, see above).
    public var configuration: KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrapServers)
        configuration.embedded = self
        return configuration
    }

    /// The partition count that spreads a backlog of `bytes` so each
    /// partition's share stays at a quarter of what it keeps (keys do not
    /// spread evenly, and `bytes` is an estimate): at least
    /// ``defaultPartitions``, at most ``maximumEstimatedPartitions``.
    public static func partitions(forBacklogBytes bytes: Int64) -> Int {
        let share = Int64(retainedBytesPerPartition / 4)
        let needed = (max(0, bytes) + share - 1) / share
        return Int(min(Int64(maximumEstimatedPartitions), max(Int64(defaultPartitions), needed)))
    }

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int = 3) throws {
        let conf = rd_kafka_conf_new()!
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        handle = try makeKafkaHandle(RD_KAFKA_PRODUCER, conf)
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            rd_kafka_destroy(handle)
            throw PipelineError.other("could not start the embedded Kafka cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerIDs = (1...Int32(max(brokers, 1))).map { $0 }
    }

    deinit { close() }

    /// Stops every broker; topics are lost.
    public func close() {
        let first = lock.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    /// Creates a topic with `partitions` partitions (replication capped by the broker count).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerIDs.count)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else {
            throw kafkaError("create topic \(name)", err)
        }
    }

    /// Takes broker `id` down: its connections close and new ones are refused.
    public func setBrokerDown(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_down(cluster, id), "set broker \(id) down")
    }

    /// Brings broker `id` back.
    public func setBrokerUp(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_up(cluster, id), "set broker \(id) up")
    }

    /// Makes broker `id` the coordinator of consumer group `group`, so a
    /// test can take the coordinator alone down.
    public func setGroupCoordinator(_ group: String, broker id: Int32) throws {
        try check(rd_kafka_mock_coordinator_set(cluster, "group", group, id), "set the coordinator of \(group)")
    }

    /// Adds `milliseconds` of round-trip latency to broker `id`.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int) throws {
        try check(rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds)), "set rtt of broker \(id)")
    }

    /// Makes the next requests of API `apiKey` (e.g. 0 = Produce, 1 = Fetch)
    /// fail with `errors` (Kafka error codes), one per request.
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, &codes)
    }

    /// Forgets any queued request errors.
    public func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }

    private func check(_ err: rd_kafka_resp_err_t, _ operation: String) throws {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(operation, err) }
    }
}
