import Foundation
import Logging
import PipelineCore

/// Progress counters of a running sink.
public struct S3SinkStatistics: Sendable, Equatable {
    /// Records written into objects (uploaded or still open).
    public var recordsWritten = 0
    /// Records skipped: null values ignored, bad records sent to the dead-letter topic.
    public var recordsSkipped = 0
    /// Objects committed (uploaded completely).
    public var objectsUploaded = 0
    /// Offset commits made after uploads.
    public var commits = 0
    /// Commits refused by a group rebalance (open files dropped, rebuilt later).
    public var rebalanceInterruptions = 0
    /// Bytes moved to local spill files because open files were over ``S3SinkConfig/memoryBudget``.
    public var bytesSpilled = 0

    /// All zero.
    public init() {}
}

/// The S3 sink's processing core, independent of the Kafka consumer: feed
/// it each partition's messages in offset order and call ``tick()``
/// regularly; it writes objects and, after each completed upload batch,
/// commits offsets through the given closure. ``S3SinkConnector`` runs it
/// on PipelineCore's `SinkRunner` (``SinkTask``), committing through the
/// runner's context instead.
public final class S3SinkTask {
    /// Commits offsets (next offset to read) synchronously; the sink waits for it.
    public typealias Committer = @Sendable ([TopicPartition: Int64]) async throws -> Void
    /// Sends records the sink cannot write to the dead-letter topic, returning once acknowledged.
    public typealias DeadLetters = @Sendable ([(message: KafkaMessage, error: any Error)]) async throws -> Void

    public let config: S3SinkConfig
    /// Decoding and partitioning, which the runner does while the previous batch is put.
    public let intake: S3SinkIntake
    private let client: S3Client
    private let zone: ZoneRules
    private let recordTimeIsWallClock: Bool
    private let commitOffsets: Committer?
    private let deadLetters: DeadLetters?
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private var writers: [TopicPartition: PartitionWriter] = [:]
    private let budget: BufferBudget
    private let counters: Locked<S3SinkStatistics>

    /// A task writing with `client` and committing with `commit` (nil when
    /// it runs on a `SinkRunner`, whose context commits).
    ///
    /// - Parameters:
    ///   - deadLetters: where bad records go with `errors.tolerance=all`;
    ///     nil with tolerance skips them (counted as skipped). Either way each
    ///     one is logged with its `topic-partition@offset`.
    ///   - clock: epoch milliseconds; for wall-clock rotation and partitioning.
    ///   - logger: one warning per bad record skipped or dead-lettered.
    ///   - counters: where the counters are kept (a connector reads them while the task runs).
    public init(
        config: S3SinkConfig, client: S3Client, commit: Committer?, deadLetters: DeadLetters? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) },
        counters: Locked<S3SinkStatistics> = Locked(S3SinkStatistics()),
        logger: Logger = Logger(label: "tributary.s3-sink")
    ) throws(PipelineError) {
        try config.validate()
        self.config = config
        self.client = client
        self.zone = try ZoneRules(identifier: config.timeZone, key: "timezone")
        self.intake = S3SinkIntake(preparer: try S3RecordPreparer(config: config), clock: clock)
        if case .timeBased(_, _, .wallclock) = config.partitioner {
            recordTimeIsWallClock = true
        } else {
            recordTimeIsWallClock = false
        }
        self.budget = BufferBudget(
            totalBytes: config.bufferBudget, configuredPartSize: config.partSize, memoryBytes: config.memoryBudget,
            spillDirectory: config.spillDirectory, counters: counters)
        self.commitOffsets = commit
        self.deadLetters = deadLetters
        self.clock = clock
        self.counters = counters
        self.logger = logger
    }

    /// Counters since the task started.
    public var statistics: S3SinkStatistics { counters.value }

    /// Partitions with records in open files (not yet uploaded).
    public var partitionsWithOpenFiles: [TopicPartition] {
        writers.filter { $0.value.hasOpenFiles }.map(\.key).sorted()
    }

    /// Writes `messages`, rotating (upload, then commit) as the rules say.
    public func put(_ messages: [KafkaMessage]) async throws {
        try await put(intake.decode(messages), commit: try standaloneCommitter(), deadLetters: deadLetters)
    }

    /// Rotates partitions whose scheduled rotation (`rotate.schedule.interval.ms`)
    /// is due, or whose `rotate.interval.ms` has passed on the wall clock when
    /// that is the record time; call it even when no messages arrive.
    public func tick() async throws {
        try await tick(commit: try standaloneCommitter())
    }

    /// Drops the open files of partitions taken away by a rebalance; their
    /// records are consumed again by whoever gets the partitions.
    public func revoke(_ partitions: [TopicPartition]) async {
        for topicPartition in partitions.sorted() {
            await writers.removeValue(forKey: topicPartition)?.discard(now: clock())
        }
    }

    /// Drops every open file without uploading, as Confluent's sink does on
    /// stop: uploading part of a file would change where later files start,
    /// and the records are consumed again from the committed offsets.
    public func close() async {
        await revoke(Array(writers.keys))
    }

    private func standaloneCommitter() throws -> Committer {
        guard let commitOffsets else {
            throw PipelineError.other("S3SinkTask made without a committer: run it on a SinkRunner, or pass commit:")
        }
        return commitOffsets
    }

    func put(_ batch: S3Batch, commit: Committer, deadLetters: DeadLetters?) async throws {
        for (message, prepared) in zip(batch.messages, batch.prepared) {
            try await put(message, prepared, commit: commit, deadLetters: deadLetters)
        }
    }

    func tick(commit: Committer) async throws {
        let now = clock()
        for topicPartition in writers.keys.sorted() {
            let writer = writers[topicPartition]!
            if writer.isDueWithoutRecord(now: now, recordTimeIsWallClock: recordTimeIsWallClock) {
                try await rotate(writer, now: now, commit: commit)
            }
        }
    }

    func noteRebalanceInterruption() {
        counters.withLock { $0.rebalanceInterruptions += 1 }
    }

    private func put(
        _ message: KafkaMessage, _ decoded: Result<S3PreparedRecord?, any Error>, commit: Committer, deadLetters: DeadLetters?
    ) async throws {
        let topicPartition = message.topicPartition
        let now = clock()
        let writer: PartitionWriter
        if let existing = writers[topicPartition] {
            writer = existing
            if let last = writer.lastOffset, message.offset <= last {
                // The consumer went back (seek, rebalance): rebuild from here.
                await writer.discard(now: now)
            }
        } else {
            writer = PartitionWriter(
                topicPartition: topicPartition, rotation: RotationState(policy: config.rotation, zone: zone, now: now))
            writers[topicPartition] = writer
        }

        let prepared: S3PreparedRecord?
        do {
            prepared = try decoded.get()
        } catch let error as PipelineError where config.toleratesErrors {
            if let deadLetters {
                try await deadLetters([(message: message, error: error)])
                var metadata: Logger.Metadata = ["at": "\(message.position)", "error": "\(error)"]
                if let topic = config.deadLetterTopic { metadata["topic"] = "\(topic)" }
                logger.warning("bad record sent to the dead-letter topic (errors.tolerance=all)", metadata: metadata)
            } else {
                logger.warning(
                    "bad record skipped (errors.tolerance=all, no dead-letter topic)",
                    metadata: ["at": "\(message.position)", "error": "\(error)"])
                ConnectorMetrics.current?.failed()
            }
            writer.skip(offset: message.offset)
            counters.withLock { $0.recordsSkipped += 1 }
            return
        }
        guard let prepared else {
            logger.debug("null value ignored (behavior.on.null.values=ignore)", metadata: ["at": "\(message.position)"])
            writer.skip(offset: message.offset)
            counters.withLock { $0.recordsSkipped += 1 }
            return
        }
        if writer.shouldRotate(
            before: prepared.encodedPartition, recordTime: prepared.recordTime,
            timeBased: config.partitioner.isTimeBased, now: now)
        {
            try await rotate(writer, now: now, commit: commit)
        }
        try await writer.write(
            prepared.bytes, offset: message.offset, encodedPartition: prepared.encodedPartition,
            recordTime: prepared.recordTime, now: now, open: openFile(for: topicPartition))
        counters.withLock { $0.recordsWritten += 1 }
        if writer.isFull { try await rotate(writer, now: now, commit: commit) }
    }

    private func openFile(for topicPartition: TopicPartition) -> (String, Int64) -> ObjectWriter {
        let config = self.config
        let client = self.client
        let budget = self.budget
        return { encodedPartition, startOffset in
            let key = config.naming.key(
                topic: topicPartition.topic, partition: topicPartition.partition, encodedPartition: encodedPartition,
                startOffset: startOffset, fileExtension: config.fileExtension)
            let contentType: String
            switch (config.format, config.compression) {
            case (_, .gzip): contentType = "application/gzip"
            case (.json, _): contentType = "application/json"
            default: contentType = "application/octet-stream"
            }
            return ObjectWriter(
                client: client, bucket: config.bucket, key: key, startOffset: startOffset, budget: budget,
                contentType: contentType, compression: config.compression, compressionLevel: config.compressionLevel)
        }
    }

    private func rotate(_ writer: PartitionWriter, now: Int64, commit: Committer) async throws {
        let files = writer.openFileCount
        let committed = try await writer.rotate(now: now, commit: commit)
        counters.withLock { counts in
            counts.objectsUploaded += files
            if committed != nil { counts.commits += 1 }
        }
    }
}

/// A null value with `behavior.on.null.values=fail`. Not a bad record that
/// `errors.tolerance` may skip: Confluent's sink stops on it too.
public struct NullValueError: Error, Sendable, CustomStringConvertible {
    /// `topic-partition@offset` of the record.
    public var position: String

    public var description: String {
        "null value at \(position): behavior.on.null.values=fail; set it to ignore to skip tombstones"
    }
}
