import CRdKafka
import Foundation

/// Topic and group administration: create topics, list topics and
/// partitions, read watermarks and a group's committed offsets.
public final class KafkaAdmin: Sendable {
    let worker = BlockingWorker(name: "kafka-admin")
    let client: Client

    /// One partition's metadata.
    public struct PartitionInfo: Sendable, Hashable {
        public var partition: Int32
        public var leader: Int32
    }

    /// One topic's metadata.
    public struct TopicInfo: Sendable, Hashable {
        public var name: String
        public var partitions: [PartitionInfo]
    }

    /// The in-process cluster, whose topics are created through its own API.
    private let embedded: EmbeddedKafka?

    public init(configuration: KafkaConfiguration) throws {
        let conf = try configuration.makeNativeConfig(defaults: [:])
        client = Client(rk: try makeKafkaHandle(RD_KAFKA_PRODUCER, conf))
        embedded = configuration.embedded
    }

    deinit {
        let client = self.client
        worker.shutdown { rd_kafka_destroy(client.rk) }
    }

    /// Creates `name` with `partitions` partitions; an existing topic is fine.
    ///
    /// Brokers without the CreateTopics API (the mock cluster in another
    /// process, `tributary broker`) get the topic auto-created by a metadata
    /// request instead, with the broker's default partition count; the
    /// in-process cluster (``KafkaConfiguration/embedded``) creates it through
    /// its own API. The count the topic actually has is returned (an existing
    /// topic keeps its own).
    @discardableResult
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = -1, config: [String: String] = [:]) async throws -> Int {
        let client = self.client, embedded = self.embedded
        return try await worker.run {
            let rk = client.rk
            if let embedded {
                try embedded.createTopic(name, partitions: partitions, replicationFactor: max(1, replicationFactor))
                return try AdminCalls.autoCreate(rk, name: name)
            }
            if !client.lacksCreateTopics {
                if try AdminCalls.createTopics(rk, name: name, partitions: partitions, replicationFactor: replicationFactor, config: config) {
                    return partitions
                }
                client.lacksCreateTopics = true
            }
            let created = try AdminCalls.autoCreate(rk, name: name)
            if created != partitions {
                kafkaLogger.notice("broker has no CreateTopics API: topic \(name) was auto-created with \(created) partitions, not \(partitions)")
            }
            return created
        }
    }

    /// Every topic (internal ones excluded) with its partitions.
    public func topics() async throws -> [TopicInfo] {
        let client = self.client
        return try await worker.run {
            let rk = client.rk
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 1, nil, &metadata, 10_000)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw kafkaError("read metadata", err) }
            defer { rd_kafka_metadata_destroy(metadata) }
            var out: [TopicInfo] = []
            for i in 0..<Int(metadata.pointee.topic_cnt) {
                let t = metadata.pointee.topics[i]
                let name = String(cString: t.topic)
                if name.hasPrefix("__") { continue }
                let partitions = (0..<Int(t.partition_cnt)).map { PartitionInfo(partition: t.partitions[$0].id, leader: t.partitions[$0].leader) }
                out.append(TopicInfo(name: name, partitions: partitions.sorted { $0.partition < $1.partition }))
            }
            return out.sorted { $0.name < $1.name }
        }
    }

    /// The low (log start) and high (next offset) watermarks of a partition.
    public func watermarks(_ tp: TopicPartition) async throws -> (low: Int64, high: Int64) {
        let client = self.client
        let marks = try await worker.run { () -> [Int64] in
            let marks = try AdminCalls.watermarks(client.rk, tp)
            return [marks.low, marks.high]
        }
        return (marks[0], marks[1])
    }

    /// The low and high watermarks of several partitions of `topic`, asked of
    /// their leaders together (one request per leader and marker).
    public func watermarks(topic: String, partitions: [Int32]) async throws -> [Int32: (low: Int64, high: Int64)] {
        let client = self.client
        let marks = try await worker.run { () -> [Int32: [Int64]] in
            try AdminCalls.watermarks(client.rk, topic: topic, partitions: partitions).mapValues { [$0.low, $0.high] }
        }
        return marks.mapValues { ($0[0], $0[1]) }
    }

    /// The names of the consumer groups the cluster knows (the embedded
    /// mock broker lacks this API and answers with an error).
    public func consumerGroups() async throws -> [String] {
        let client = self.client
        return try await worker.run {
            let rk = client.rk
            var list: UnsafePointer<rd_kafka_group_list>?
            let err = rd_kafka_list_groups(rk, nil, &list, 10_000)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw kafkaError("list groups", err) }
            defer { rd_kafka_group_list_destroy(list) }
            return (0..<Int(list.pointee.group_cnt)).map { String(cString: list.pointee.groups[$0].group) }.sorted()
        }
    }

    /// The cluster's id (Kafka Connect's `kafka_cluster_id`), or nil when no
    /// broker answered within `timeoutMilliseconds`.
    public func clusterID(timeoutMilliseconds: Int32 = 5_000) async throws -> String? {
        let client = self.client
        return try await worker.run { () throws -> String? in
            guard let id = rd_kafka_clusterid(client.rk, timeoutMilliseconds) else { return nil }
            defer { rd_kafka_mem_free(client.rk, id) }
            return String(cString: id)
        }
    }

    /// `group`'s committed offsets for `partitions`, read without joining the group.
    public func committedOffsets(group: String, partitions: [TopicPartition], configuration: KafkaConfiguration) async throws -> [TopicPartition: Int64] {
        try await worker.run {
            let conf = try configuration.with(["group.id": group]).makeNativeConfig(defaults: [:])
            let rk = try makeKafkaHandle(RD_KAFKA_CONSUMER, conf)
            defer { rd_kafka_destroy(rk) }
            return try AdminCalls.committed(rk, partitions, timeoutMs: 10_000, operation: "fetch committed offsets of \(group)")
        }
    }

    /// The client handle, shared only with the admin's worker thread.
    final class Client: @unchecked Sendable {
        let rk: OpaquePointer
        /// Set once CreateTopics went unanswered, so later calls skip the wait.
        var lacksCreateTopics = false
        init(rk: OpaquePointer) { self.rk = rk }
    }
}
