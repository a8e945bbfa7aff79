import PipelineCore

/// A table's position: every row at or below it has been delivered to Kafka.
///
/// Stored as JSON, e.g. `{"incrementing":42}` or
/// `{"timestamp":"2024-05-01 10:00:00.123456+00","incrementing":42}`. The
/// timestamp is kept as PostgreSQL's own text of the value (microseconds, UTC),
/// so it compares exactly when handed back as a parameter.
///
/// When the source knows its Kafka configuration it also stores where the
/// records this position covers end in the topic,
/// `"kafka":{"topic":"P_USERS","offsets":{"0":1200,"1":1187}}` (see
/// ``KafkaPositions``): after a crash, whatever the topic holds beyond those
/// offsets was delivered but not yet recorded, and the restart skips it
/// instead of producing it twice (see ``DeliveredRecords``). Offsets stored
/// before this field existed simply lack it and still load.
public struct SourceOffset: Sendable, Hashable, CustomStringConvertible {
    public var timestamp: String?
    public var incrementing: Int64?
    /// The Kafka positions this row position corresponds to; nil in old offset
    /// files and when the source runs without a Kafka configuration.
    public var kafka: KafkaPositions?

    public init(timestamp: String? = nil, incrementing: Int64? = nil, kafka: KafkaPositions? = nil) {
        self.timestamp = timestamp
        self.incrementing = incrementing
        self.kafka = kafka
    }

    /// The row position alone, without Kafka positions.
    public var row: SourceOffset { SourceOffset(timestamp: timestamp, incrementing: incrementing) }

    public var json: JSON {
        var members: [(String, JSON)] = []
        if let timestamp { members.append(("timestamp", .string(timestamp))) }
        if let incrementing { members.append(("incrementing", .int(incrementing))) }
        if let kafka { members.append(("kafka", kafka.json)) }
        return .object(members)
    }

    public init?(json: JSON) {
        guard case .object = json else { return nil }
        timestamp = json["timestamp"]?.stringValue
        if case .int(let value)? = json["incrementing"] { incrementing = value }
        kafka = json["kafka"].flatMap(KafkaPositions.init(json:))
        if timestamp == nil && incrementing == nil && kafka == nil { return nil }
    }

    /// False for the offset stored before a table's first row is sent: Kafka
    /// positions only (see ``DeliveredRecords``), the table read from its start.
    public var hasRowPosition: Bool { timestamp != nil || incrementing != nil }

    public var description: String {
        guard hasRowPosition else { return "the beginning" }
        return [timestamp.map { "timestamp \($0)" }, incrementing.map { "incrementing \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}

/// For one topic, per partition, the offset after the last record covered by
/// a ``SourceOffset``: every record of ours before it is accounted for by the
/// row position. A partition without an entry had no covered record (read it
/// from its log start when recovering).
public struct KafkaPositions: Sendable, Hashable {
    public var topic: String
    public var offsets: [Int32: Int64]

    public init(topic: String, offsets: [Int32: Int64]) {
        self.topic = topic
        self.offsets = offsets
    }

    public var json: JSON {
        .object([
            ("topic", .string(topic)),
            ("offsets", .object(offsets.keys.sorted().map { (String($0), .int(offsets[$0]!)) })),
        ])
    }

    public init?(json: JSON) {
        guard let topic = json["topic"]?.stringValue, case .object(let members)? = json["offsets"] else { return nil }
        var offsets: [Int32: Int64] = [:]
        for (key, value) in members {
            guard let partition = Int32(key), case .int(let offset) = value else { return nil }
            offsets[partition] = offset
        }
        self.topic = topic
        self.offsets = offsets
    }
}
