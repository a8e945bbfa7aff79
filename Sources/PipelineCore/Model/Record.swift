/// A Kafka topic and partition.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// A Kafka message header. A nil value is a header with a null value.
public struct Header: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header with a UTF-8 text value.
    public init(_ key: String, text: String) {
        self.init(key, Array(text.utf8))
    }
}

/// A message as Kafka stores it: raw key and value bytes.
///
/// Consumers return these; sinks decode them into ``Record``s with a converter.
public struct KafkaMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    /// Nil is a tombstone.
    public var value: [UInt8]?
    public var headers: [Header]
    /// Milliseconds since the epoch (create or log-append time), nil when unknown.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32 = -1, offset: Int64 = -1, key: [UInt8]?, value: [UInt8]?,
        headers: [Header] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// Bytes of the key and the value (what batches and send windows are bounded by).
    public var byteCount: Int { (key?.count ?? 0) + (value?.count ?? 0) }

    /// Where this message sits, for error messages: `topic-partition@offset`.
    public var position: String { "\(topic)-\(partition)@\(offset)" }
}

/// A decoded record: a Kafka message whose key and value are typed by schemas.
public struct Record: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: SchemaAndValue?
    /// Nil is a tombstone (a delete).
    public var value: SchemaAndValue?
    public var headers: [Header]
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32 = -1, offset: Int64 = -1, key: SchemaAndValue?, value: SchemaAndValue?,
        headers: [Header] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// Decodes `message` with the given key and value converters. Errors name
    /// the message's topic, partition and offset.
    public init(decoding message: KafkaMessage, keyConverter: JsonConverter, valueConverter: JsonConverter) throws {
        try self.init(decoding: message, keyConverter: .json(keyConverter), valueConverter: .json(valueConverter))
    }

    /// Decodes `message` with the given converters (a registry converter's
    /// schemas fetched first, ``RecordConverter/prefetch(_:)``). Errors name
    /// the message's topic, partition and offset.
    public init(decoding message: KafkaMessage, keyConverter: RecordConverter, valueConverter: RecordConverter) throws {
        do {
            let key = try keyConverter.decode(message.key)
            let value = try valueConverter.decode(message.value)
            self.init(
                topic: message.topic, partition: message.partition, offset: message.offset,
                key: key, value: value, headers: message.headers, timestamp: message.timestamp)
        } catch {
            throw PipelineError.badMessage(position: message.position, reason: error.description)
        }
    }
}
