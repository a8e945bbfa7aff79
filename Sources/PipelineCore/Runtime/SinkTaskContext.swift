import Logging

/// What a ``SinkTask`` may use of its ``SinkRunner`` while it puts a batch.
public struct SinkTaskContext: Sendable {
    private let consumer: KafkaConsumer
    /// The dead-letter queue, when `errors.tolerance=all` names a topic.
    public let deadLetters: DeadLetterQueue?
    /// Where the task reports records it skipped (``ConnectorMetrics/failed(_:)``).
    public let metrics: ConnectorMetrics
    private let logger: Logger

    init(consumer: KafkaConsumer, deadLetters: DeadLetterQueue?, metrics: ConnectorMetrics, logger: Logger) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.logger = logger
    }

    /// Commits `offsets` (next offset to read) now and waits for the broker.
    ///
    /// A commit refused for a passing reason (coordinator moving or down,
    /// broker unreachable) is retried for as long as the outage lasts: a
    /// task that commits after each upload cannot move on without it.
    /// - Throws: ``GroupRebalance`` when the group moved on: only the
    ///   consumer's next poll can finish the rebalance. `CancellationError`
    ///   when cancelled while waiting.
    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        guard !offsets.isEmpty else { return }
        let named = offsets.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", ")
        var retry = RetryLoop(waitingFor: "committing \(named)", logger: logger)
        while true {
            do {
                try await consumer.commit(offsets)
                retry.succeeded()
                return
            } catch PipelineError.kafka(_, let code, _, _) where GroupRebalance.codes.contains(code) {
                throw GroupRebalance(offsets: offsets)
            } catch let error where Retry.isRetriable(error) {
                try await retry.failed(error)
            }
        }
    }
}
