/// Sends records a sink cannot take to a dead-letter topic, with the error
/// in the headers Kafka Connect uses (`__connect.errors.*`), so tools built
/// for Connect's dead-letter queues read ours.
///
/// A dead letter never grows past ``maxRecordBytes``: a record that was too
/// big for the broker once (or whose headers push it over) would otherwise
/// stop the sink on every restart. Its key and value are cut to fit, and the
/// headers `__tributary.errors.truncated.key.bytes` /
/// `__tributary.errors.truncated.value.bytes` give the original sizes; the
/// complete record stays in the source topic at the offset the headers name.
public struct DeadLetterQueue: Sendable {
    public let topic: String
    public let connectorName: String
    /// The largest dead letter sent, everything included (librdkafka's and
    /// Kafka's default `message.max.bytes` is 1,000,000).
    public let maxRecordBytes: Int
    private let producer: KafkaProducer
    /// The connector's figures (the same series as its runner's).
    private let metrics: ConnectorMetrics

    /// Kafka's default `message.max.bytes`.
    public static let defaultMaxRecordBytes = 1_000_000
    /// Header naming the original key size when the key was cut.
    public static let truncatedKeyHeader = "__tributary.errors.truncated.key.bytes"
    /// Header naming the original value size when the value was cut.
    public static let truncatedValueHeader = "__tributary.errors.truncated.value.bytes"
    /// Header saying the original headers were dropped to fit (their total size).
    public static let droppedHeadersHeader = "__tributary.errors.dropped.headers.bytes"
    /// Room kept for Kafka's record framing.
    static let framingAllowance = 1024
    /// Room kept for the truncation headers.
    static let truncationHeadersAllowance = 128
    /// Longest exception message kept in its header.
    static let maxMessageHeaderBytes = 4096

    public init(topic: String, connectorName: String, producer: KafkaProducer, maxRecordBytes: Int = DeadLetterQueue.defaultMaxRecordBytes) {
        self.topic = topic
        self.connectorName = connectorName
        self.producer = producer
        self.maxRecordBytes = maxRecordBytes
        self.metrics = ConnectorMetrics(connector: connectorName)
    }

    /// The limit for a producer made with `configuration`: its
    /// `message.max.bytes` when set, else Kafka's default.
    public static func maxRecordBytes(for configuration: KafkaConfiguration) -> Int {
        configuration.properties["message.max.bytes"].flatMap { Int($0.trimmingSpaces) } ?? defaultMaxRecordBytes
    }

    /// The dead-letter copy of `message`: original key, value and headers plus
    /// the error context, cut to ``maxRecordBytes`` as the type describes.
    public func deadLetter(for message: KafkaMessage, error: Error, stage: String) -> KafkaMessage {
        var headers = message.headers
        let context = [
            Header("__connect.errors.topic", text: message.topic),
            Header("__connect.errors.partition", text: String(message.partition)),
            Header("__connect.errors.offset", text: String(message.offset)),
            Header("__connect.errors.connector.name", text: connectorName),
            Header("__connect.errors.task.id", text: "0"),
            Header("__connect.errors.stage", text: stage),
            Header("__connect.errors.exception.class.name", text: String(describing: type(of: error))),
            Header("__connect.errors.exception.message", text: String(decoding: Array("\(error)".utf8).prefix(Self.maxMessageHeaderBytes), as: UTF8.self)),
        ]
        let room = maxRecordBytes - Self.framingAllowance - Self.size(of: context) - Self.truncationHeadersAllowance
        if Self.size(of: headers) > room / 2 {
            // The record's own headers are what is too big: keep the error context.
            headers = [Header(Self.droppedHeadersHeader, text: String(Self.size(of: headers)))]
        }
        let budget = max(room - Self.size(of: headers), 0)
        headers += context
        var key = message.key, value = message.value
        let keyBytes = key?.count ?? 0, valueBytes = value?.count ?? 0
        if keyBytes + valueBytes > budget {
            // The key keeps at least half the budget, or all it needs; the value gets the rest.
            let keyKeep = min(keyBytes, max(budget - valueBytes, budget / 2))
            let valueKeep = min(valueBytes, budget - keyKeep)
            if keyKeep < keyBytes {
                key = Array(key!.prefix(keyKeep))
                headers.append(Header(Self.truncatedKeyHeader, text: String(keyBytes)))
            }
            if valueKeep < valueBytes {
                value = Array(value!.prefix(valueKeep))
                headers.append(Header(Self.truncatedValueHeader, text: String(valueBytes)))
            }
        }
        return KafkaMessage(topic: topic, key: key, value: value, headers: headers, timestamp: message.timestamp)
    }

    /// Bytes headers take in a record, about (name, value and varint lengths).
    static func size(of headers: some Collection<Header>) -> Int {
        headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 10 }
    }

    /// Sends the dead letters and returns once the broker acknowledged them
    /// (only then may the sink commit past the originals). A failure names
    /// the original records' `topic-partition@offset`.
    public func send(_ failures: [(message: KafkaMessage, error: Error)], stage: String) async throws {
        guard !failures.isEmpty else { return }
        do {
            _ = try await producer.send(failures.map { deadLetter(for: $0.message, error: $0.error, stage: stage) })
            metrics.deadLettered(failures.count)
            metrics.failed(failures.count)
        } catch {
            let positions = failures.map(\.message.position)
            let named = positions.count <= 5 ? positions.joined(separator: ", ") : positions.prefix(5).joined(separator: ", ") + " and \(positions.count - 5) more"
            let operation = "send to dead-letter topic \(topic) the records from \(named)"
            if case .kafka(_, let code, let reason, let retriable)? = error as? PipelineError {
                throw PipelineError.kafka(operation: operation, code: code, reason: reason, retriable: retriable)
            }
            throw PipelineError.other("cannot \(operation): \(error)")
        }
    }
}
