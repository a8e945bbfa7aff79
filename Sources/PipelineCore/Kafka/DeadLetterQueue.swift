/// Sends records a sink cannot take to a dead-letter topic, with the error
/// in the headers Kafka Connect uses (`__connect.errors.*`), so tools built
/// for Connect's dead-letter queues read ours.
public struct DeadLetterQueue: Sendable {
    public let topic: String
    public let connectorName: String
    private let producer: KafkaProducer

    public init(topic: String, connectorName: String, producer: KafkaProducer) {
        self.topic = topic
        self.connectorName = connectorName
        self.producer = producer
    }

    /// The dead-letter copy of `message`: original key, value and headers plus the error context.
    public func deadLetter(for message: KafkaMessage, error: Error, stage: String) -> KafkaMessage {
        var headers = message.headers
        headers += [
            Header("__connect.errors.topic", text: message.topic),
            Header("__connect.errors.partition", text: String(message.partition)),
            Header("__connect.errors.offset", text: String(message.offset)),
            Header("__connect.errors.connector.name", text: connectorName),
            Header("__connect.errors.task.id", text: "0"),
            Header("__connect.errors.stage", text: stage),
            Header("__connect.errors.exception.class.name", text: String(describing: type(of: error))),
            Header("__connect.errors.exception.message", text: "\(error)"),
        ]
        return KafkaMessage(topic: topic, key: message.key, value: message.value, headers: headers, timestamp: message.timestamp)
    }

    /// Sends the dead letters and returns once the broker acknowledged them
    /// (only then may the sink commit past the originals).
    public func send(_ failures: [(message: KafkaMessage, error: Error)], stage: String) async throws {
        guard !failures.isEmpty else { return }
        _ = try await producer.send(failures.map { deadLetter(for: $0.message, error: $0.error, stage: stage) })
    }
}
