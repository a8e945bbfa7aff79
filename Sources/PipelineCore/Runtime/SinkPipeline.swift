/// The runner's decode-ahead: while batch N is put, batch N+1 is polled
/// (copied out of librdkafka on the consumer's thread) and decoded on
/// another task. One batch waits at most, bounded by records and bytes.
///
/// Revocations are handed out in order with the batch they precede: those
/// reported since the previous batch, and with them the records of those
/// partitions are taken out of a batch polled before the revoke (it is
/// decoded again without them), so nothing the task closed is written
/// again. Revokes during a poll are dropped from it by the consumer itself.
struct SinkPipeline<Intake: SinkIntake>: Sendable {
    /// A batch ready to put.
    struct Ready: Sendable {
        /// Partitions revoked before this batch: close them first.
        var revoked: [TopicPartition]
        /// Nil when nothing was polled.
        var batch: Intake.Batch?
        /// The messages `batch` holds.
        var messages: [KafkaMessage]
    }

    private struct Polled: Sendable {
        var messages: [KafkaMessage]
        var batch: Intake.Batch?
        /// The revocation count when the poll ended.
        var mark: Int
    }

    private let consumer: KafkaConsumer
    private let intake: Intake
    private let revocations: SinkRevocations
    private let maxRecords: Int
    private let maxBytes: Int
    private let timeout: Duration
    private let fill: Duration
    private var ahead: Task<Polled, any Error>?

    init(
        consumer: KafkaConsumer, intake: Intake, revocations: SinkRevocations, maxRecords: Int, maxBytes: Int, timeout: Duration,
        fill: Duration
    ) {
        self.fill = fill
        self.consumer = consumer
        self.intake = intake
        self.revocations = revocations
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.timeout = timeout
    }

    /// The next batch; the one after it is being polled and decoded when
    /// this returns. Throws what the poll or the decoder threw.
    mutating func next() async throws -> Ready {
        let polled = try await (ahead ?? start()).value
        ahead = start()
        // Taken after the next poll started: revokes during it up to now
        // are delivered before this batch, and its records of them dropped.
        let (revoked, since) = revocations.take(after: polled.mark)
        guard !since.isEmpty, polled.messages.contains(where: { since.contains($0.topicPartition) }) else {
            return Ready(revoked: revoked, batch: polled.batch, messages: polled.messages)
        }
        let kept = polled.messages.filter { !since.contains($0.topicPartition) }
        return Ready(revoked: revoked, batch: kept.isEmpty ? nil : try await intake.decode(kept), messages: kept)
    }

    /// Waits for the poll in flight and drops it; its records are read
    /// again by whoever resumes from the committed offsets.
    mutating func finish() async {
        _ = try? await ahead?.value
        ahead = nil
    }

    private func start() -> Task<Polled, any Error> {
        let consumer = self.consumer, intake = self.intake, revocations = self.revocations
        let maxRecords = self.maxRecords, maxBytes = self.maxBytes, timeout = self.timeout, fill = self.fill
        return Task {
            let messages = try await consumer.poll(maxMessages: maxRecords, maxBytes: maxBytes, timeout: timeout, fill: fill)
            // Revocations fire only inside poll, so none slips in between.
            let mark = revocations.count
            return Polled(messages: messages, batch: messages.isEmpty ? nil : try await intake.decode(messages), mark: mark)
        }
    }
}
