import CRdKafka
import Foundation

extension KafkaAdmin {
    /// A broker of the cluster, as metadata lists it.
    public struct BrokerInfo: Sendable, Hashable {
        public var id: Int32
        public var host: String
        public var port: Int32
    }

    /// A consumer group as the broker describes it.
    public struct GroupInfo: Sendable, Hashable {
        public var name: String
        /// Stable, PreparingRebalance, Empty, Dead…
        public var state: String
        /// The assignor (range, roundrobin, cooperative-sticky…).
        public var protocolName: String
        public var members: [GroupMember]
    }

    /// One member of a consumer group and the partitions it was assigned.
    public struct GroupMember: Sendable, Hashable {
        public var memberID: String
        public var clientID: String
        public var clientHost: String
        public var assignment: [TopicPartition]
    }

    /// The cluster's brokers, by id.
    public func brokers() async throws -> [BrokerInfo] {
        let client = self.client
        return try await worker.run {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.rk, 0, nil, &metadata, 10_000)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw kafkaError("read metadata", err) }
            defer { rd_kafka_metadata_destroy(metadata) }
            return (0..<Int(metadata.pointee.broker_cnt)).map { i in
                let broker = metadata.pointee.brokers[i]
                return BrokerInfo(id: broker.id, host: String(cString: broker.host), port: broker.port)
            }.sorted { $0.id < $1.id }
        }
    }

    /// Every consumer group with its members and their assignments (the
    /// embedded mock broker lacks this API and answers with an error).
    public func describeGroups() async throws -> [GroupInfo] {
        let client = self.client
        return try await worker.run {
            var list: UnsafePointer<rd_kafka_group_list>?
            let err = rd_kafka_list_groups(client.rk, nil, &list, 10_000)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw kafkaError("list groups", err) }
            defer { rd_kafka_group_list_destroy(list) }
            return (0..<Int(list.pointee.group_cnt)).map { i in
                let group = list.pointee.groups[i]
                let members = (0..<Int(group.member_cnt)).map { j in
                    let member = group.members[j]
                    let assignment = member.member_assignment.map {
                        ConsumerAssignment.partitions(UnsafeRawBufferPointer(start: $0, count: Int(member.member_assignment_size)))
                    } ?? []
                    return GroupMember(
                        memberID: String(cString: member.member_id), clientID: String(cString: member.client_id),
                        clientHost: String(cString: member.client_host), assignment: assignment)
                }
                return GroupInfo(
                    name: String(cString: group.group), state: String(cString: group.state),
                    protocolName: String(cString: group.protocol), members: members.sorted { $0.memberID < $1.memberID })
            }.sorted { $0.name < $1.name }
        }
    }
}

/// Kafka's consumer protocol assignment (what a group's leader hands each
/// member): int16 version, an array of (topic string, int32 partition
/// array), then user data. Big-endian, arrays and strings length-prefixed.
enum ConsumerAssignment {
    /// The partitions in `bytes`; what cannot be read (truncated, another protocol) is left out.
    static func partitions(_ bytes: UnsafeRawBufferPointer) -> [TopicPartition] {
        var reader = BigEndianReader(bytes: bytes)
        guard reader.int16() != nil, let topics = reader.int32(), topics >= 0 else { return [] }
        var out: [TopicPartition] = []
        for _ in 0..<topics {
            guard let length = reader.int16(), length >= 0, let name = reader.string(Int(length)),
                let count = reader.int32(), count >= 0
            else { return out }
            for _ in 0..<count {
                guard let partition = reader.int32() else { return out }
                out.append(TopicPartition(name, partition))
            }
        }
        return out.sorted()
    }
}

/// Reads big-endian integers and strings from bytes, failing softly at the end.
struct BigEndianReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func int16() -> Int16? { integer(Int16.self) }
    mutating func int32() -> Int32? { integer(Int32.self) }

    mutating func string(_ count: Int) -> String? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { return nil }
        var value: T = 0
        for i in 0..<size { value = value << 8 | T(truncatingIfNeeded: bytes[offset + i]) }
        offset += size
        return value
    }
}
