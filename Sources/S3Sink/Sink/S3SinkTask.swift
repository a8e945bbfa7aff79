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
}

/// The S3 sink's processing core, independent of the Kafka consumer: feed
/// it each partition's messages in offset order and call ``tick()``
/// regularly; it writes objects and, after each completed upload batch,
/// commits offsets through the given closure.
public final class S3SinkTask {
    /// Commits offsets (next offset to read) synchronously; the sink waits for it.
    public typealias Committer = @Sendable ([TopicPartition: Int64]) async throws -> Void
    /// Sends records the sink cannot write to the dead-letter topic, returning once acknowledged.
    public typealias DeadLetters = @Sendable ([(message: KafkaMessage, error: any Error)]) async throws -> Void

    public let config: S3SinkConfig
    private let client: S3Client
    private let partitioner: any Partitioner
    private let zone: ZoneRules
    private let valueConverter: JsonConverter
    private let needsDecodedValue: Bool
    /// Whether the partitioner reads fields of the value (else JsonFormat
    /// only validates the payload and writes it as received).
    private let partitionerReadsValue: Bool
    private let recordTimeIsWallClock: Bool
    private let commitOffsets: Committer
    private let deadLetters: DeadLetters?
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private var writers: [TopicPartition: PartitionWriter] = [:]
    private let budget: BufferBudget
    /// A commit was refused by a group rebalance; messages are dropped until
    /// the partitions are revoked (and then resume at committed offsets).
    private var awaitingRebalance = false
    private let counters = Locked(S3SinkStatistics())

    /// A task writing with `client` and committing with `commit`.
    ///
    /// - Parameters:
    ///   - deadLetters: where bad records go with `errors.tolerance=all`;
    ///     nil with tolerance skips them (counted as skipped). Either way each
    ///     one is logged with its `topic-partition@offset`.
    ///   - clock: epoch milliseconds; for wall-clock rotation and partitioning.
    ///   - logger: one warning per bad record skipped or dead-lettered.
    public init(
        config: S3SinkConfig, client: S3Client, commit: @escaping Committer, deadLetters: DeadLetters? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) },
        logger: Logger = Logger(label: "tributary.s3-sink")
    ) throws(PipelineError) {
        try config.validate()
        self.config = config
        self.client = client
        self.partitioner = try config.makePartitioner()
        self.zone = try ZoneRules(identifier: config.timeZone, key: "timezone")
        self.valueConverter = JsonConverter(schemasEnabled: config.valueSchemasEnabled)
        if case .default = config.partitioner, case .byteArray = config.format {
            needsDecodedValue = false
        } else {
            needsDecodedValue = true
        }
        switch config.partitioner {
        case .field: partitionerReadsValue = true
        case .timeBased(_, _, .recordField): partitionerReadsValue = true
        default: partitionerReadsValue = false
        }
        if case .timeBased(_, _, .wallclock) = config.partitioner {
            recordTimeIsWallClock = true
        } else {
            recordTimeIsWallClock = false
        }
        self.budget = BufferBudget(totalBytes: config.bufferBudget, configuredPartSize: config.partSize)
        self.commitOffsets = commit
        self.deadLetters = deadLetters
        self.clock = clock
        self.logger = logger
    }

    /// Counters since the task started.
    public var statistics: S3SinkStatistics { counters.value }

    /// Partitions with records in open files (not yet uploaded).
    public var partitionsWithOpenFiles: [TopicPartition] {
        writers.filter { $0.value.hasOpenFiles }.map(\.key).sorted()
    }

    /// Writes `messages`, rotating (upload, then commit) as the rules say.
    ///
    /// If a commit is refused because the group is rebalancing, every open
    /// file is dropped and so is every message until the rebalance revokes
    /// the partitions (``revoke(_:)``): they then resume at their committed
    /// offsets. Writing on meanwhile would start files at offsets past the
    /// committed one, which no rebuild could replace.
    public func put(_ messages: [KafkaMessage]) async throws {
        do {
            for message in messages where !awaitingRebalance { try await put(message) }
        } catch is GroupRebalance {
            await interruptForRebalance()
        }
    }

    /// Rotates partitions whose scheduled rotation (`rotate.schedule.interval.ms`)
    /// is due, or whose `rotate.interval.ms` has passed on the wall clock when
    /// that is the record time; call it even when no messages arrive.
    public func tick() async throws {
        let now = clock()
        guard !awaitingRebalance else { return }
        do {
            for topicPartition in writers.keys.sorted() {
                let writer = writers[topicPartition]!
                if writer.isDueWithoutRecord(now: now, recordTimeIsWallClock: recordTimeIsWallClock) {
                    try await rotate(writer, now: now)
                }
            }
        } catch is GroupRebalance {
            await interruptForRebalance()
        }
    }

    private func interruptForRebalance() async {
        await close()
        awaitingRebalance = true
        counters.withLock { $0.rebalanceInterruptions += 1 }
    }

    /// Drops the open files of partitions taken away by a rebalance; their
    /// records are consumed again by whoever gets the partitions.
    public func revoke(_ partitions: [TopicPartition]) async {
        awaitingRebalance = false
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

    private func put(_ message: KafkaMessage) async throws {
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

        let prepared: (bytes: [UInt8], encodedPartition: String, recordTime: Int64?)?
        do {
            prepared = try prepare(message, now: now)
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
            try await rotate(writer, now: now)
        }
        try await writer.write(
            prepared.bytes, offset: message.offset, encodedPartition: prepared.encodedPartition,
            recordTime: prepared.recordTime, now: now, open: openFile(for: topicPartition))
        counters.withLock { $0.recordsWritten += 1 }
        if writer.isFull { try await rotate(writer, now: now) }
    }

    /// The bytes, encoded partition and record time of a message; nil for a
    /// null value that is to be ignored.
    private func prepare(_ message: KafkaMessage, now: Int64) throws
        -> (bytes: [UInt8], encodedPartition: String, recordTime: Int64?)?
    {
        var value: SchemaAndValue? = nil
        // JsonFormat writes the payload as received once it is known valid:
        // no JSON tree and no re-encoding, and the same bytes on every delivery.
        var payload: Range<Int>? = nil
        if let bytes = message.value, needsDecodedValue {
            var validation = PayloadValidation()
            if case .json = config.format, !partitionerReadsValue, let location = valueConverter.read(bytes, into: &validation),
                RecordFormat.isVerbatim(bytes[location.range])
            {
                payload = location.range
            } else {
                do {
                    value = try valueConverter.decode(bytes)
                } catch {
                    throw PipelineError.badMessage(position: message.position, reason: error.description)
                }
                if case .json = config.format, value != nil, let location = valueConverter.locatePayload(bytes),
                    RecordFormat.isVerbatim(bytes[location.range])
                {
                    payload = location.range
                }
            }
        }
        let isNull = message.value == nil || (needsDecodedValue && value == nil && payload == nil)
        if isNull {
            guard config.nullValues == .ignore else {
                throw NullValueError(position: message.position)
            }
            return nil
        }
        let record = Record(
            topic: message.topic, partition: message.partition, offset: message.offset, key: nil, value: value,
            headers: message.headers, timestamp: message.timestamp)
        let encodedPartition = try partitioner.encodedPartition(for: record, now: now)
        let recordTime = try partitioner.recordTime(for: record, now: now)
        let bytes = try config.format.encode(record, rawValue: message.value, payload: payload)
        return (bytes, encodedPartition, recordTime)
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

    private func rotate(_ writer: PartitionWriter, now: Int64) async throws {
        let files = writer.openFileCount
        let committed = try await writer.rotate(now: now, commit: commitOffsets)
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
