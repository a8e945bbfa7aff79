import Logging
import PipelineCore

/// ``MySQLRecordWriter`` as a ``SinkTask``: partitions resume at the
/// offsets stored in MySQL, each batch is one transaction with its offsets,
/// and the Kafka commit that follows is advisory.
final class MySQLSinkTask: SinkTask {
    /// Opening reads the stored offsets; decoding happens off the writer's actor.
    struct Intake: SinkIntake {
        let writer: MySQLRecordWriter
        let config: MySQLSinkConfig
        let logger: Logger

        func open(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
            // On the consumer's own thread, so blocking MySQL calls are fine here.
            let stored = try MySQLSink.storedOffsets(config)
            let resume = stored.filter { partitions.contains($0.key) }
            if !resume.isEmpty {
                logger.info("resuming from offsets stored in MySQL", metadata: ["offsets": "\(resume.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" })"])
            }
            return resume
        }

        func decode(_ messages: [KafkaMessage]) async throws -> MySQLBatch {
            try await writer.prefetchSchemas(messages)
            return writer.decode(messages)
        }
    }

    let intake: Intake
    private let writer: MySQLRecordWriter
    private let logger: Logger
    /// Offsets stored in MySQL since the last ``preCommit()``.
    private var written: [TopicPartition: Int64] = [:]
    private var total = 0

    init(writer: MySQLRecordWriter, logger: Logger) {
        self.writer = writer
        self.logger = logger
        self.intake = Intake(writer: writer, config: writer.config, logger: logger)
    }

    /// Creates the offsets table, which ``Intake/open(_:)`` reads.
    func start() async throws {
        try await writer.prepare()
    }

    func put(_ batch: MySQLBatch, context: SinkTaskContext) async throws {
        let result = try await writer.write(batch, deadLetters: context.deadLetters)
        written.merge(result.nextOffsets) { max($0, $1) }
        total += result.written
        logger.debug("batch written", metadata: [
            "records": "\(batch.messages.count)", "written": "\(result.written)", "skipped": "\(result.skipped)",
            "failed": "\(result.failed)", "total": "\(total)",
        ])
    }

    func preCommit() -> [TopicPartition: Int64] {
        defer { written = [:] }
        return written
    }

    /// Nothing to drop: every batch is complete in MySQL once put returns.
    func close(_ partitions: [TopicPartition]) async {}

    func stop() async {
        await writer.close()
    }
}
