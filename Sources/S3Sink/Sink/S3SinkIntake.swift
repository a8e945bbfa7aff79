import PipelineCore

/// A record ready for its object: the bytes to append, the encoded
/// partition (the object's directory) and the record time for rotation.
struct S3PreparedRecord: Sendable {
    var bytes: [UInt8]
    var encodedPartition: String
    var recordTime: Int64?
}

/// Messages decoded by ``S3SinkIntake``, ready for ``S3SinkTask``.
public struct S3Batch: Sendable {
    /// The messages, in consumption order.
    public let messages: [KafkaMessage]
    /// Per message: what to write, nil for a null value to ignore, or why it cannot be written.
    let prepared: [Result<S3PreparedRecord?, any Error>]
}

/// The S3 sink's decoding half: validates each value, formats it and
/// finds its encoded partition. Pure CPU, so the runner runs it while the
/// previous batch is written and uploaded.
public struct S3SinkIntake: SinkIntake {
    let preparer: S3RecordPreparer
    let clock: @Sendable () -> Int64

    public func decode(_ messages: [KafkaMessage]) async throws -> S3Batch {
        // A registry that cannot be reached throws: the batch is read again.
        try await preparer.valueConverter.prefetch(messages.lazy.map(\.value))
        let now = clock()
        return S3Batch(messages: messages, prepared: messages.map { message in Result { try preparer.prepare(message, now: now) } })
    }
}

/// Turns a message into the bytes its object holds, per format and partitioner.
struct S3RecordPreparer: Sendable {
    let config: S3SinkConfig
    let partitioner: any Partitioner
    let valueConverter: RecordConverter
    let needsDecodedValue: Bool
    /// Whether the partitioner reads fields of the value (else JsonFormat
    /// only validates the payload and writes it as received).
    let partitionerReadsValue: Bool

    init(config: S3SinkConfig) throws(PipelineError) {
        self.config = config
        self.partitioner = try config.makePartitioner()
        self.valueConverter = RecordConverter(isKey: false, schemasEnabled: config.valueSchemasEnabled, registry: config.valueRegistry)
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
    }

    /// The bytes, encoded partition and record time of a message; nil for a
    /// null value that is to be ignored.
    func prepare(_ message: KafkaMessage, now: Int64) throws -> S3PreparedRecord? {
        var value: SchemaAndValue? = nil
        // JsonFormat writes the payload as received once it is known valid:
        // no JSON tree and no re-encoding, and the same bytes on every delivery.
        var payload: Range<Int>? = nil
        if let bytes = message.value, needsDecodedValue {
            var validation = PayloadValidation()
            if case .json = config.format, !partitionerReadsValue, let location = valueConverter.json?.read(bytes, into: &validation),
                RecordFormat.isVerbatim(bytes[location.range])
            {
                payload = location.range
            } else {
                do {
                    value = try valueConverter.decode(bytes)
                } catch {
                    throw PipelineError.badMessage(position: message.position, reason: error.description)
                }
                if case .json = config.format, value != nil, let location = valueConverter.json?.locatePayload(bytes),
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
        return S3PreparedRecord(bytes: bytes, encodedPartition: encodedPartition, recordTime: recordTime)
    }
}

/// The task on a `SinkRunner`: commits go through the runner's context
/// (synchronously, after each rotation's uploads), dead letters to its queue.
extension S3SinkTask: SinkTask {
    public func put(_ batch: S3Batch, context: SinkTaskContext) async throws {
        try await noticingRebalance { try await put(batch, commit: context.commit, deadLetters: Self.deadLetters(context)) }
    }

    /// Empty: every offset whose objects are uploaded was committed right
    /// after the upload, through the context.
    public func preCommit() -> [TopicPartition: Int64] { [:] }

    public func tick(context: SinkTaskContext) async throws {
        try await noticingRebalance { try await tick(commit: context.commit) }
    }

    /// Drops the partitions' open files (``revoke(_:)``).
    public func close(_ partitions: [TopicPartition]) async {
        await revoke(partitions)
    }

    /// Drops every open file (``close()``).
    public func stop() async {
        await close()
    }

    /// Counts a commit refused by a rebalance; the runner then closes the partitions.
    private func noticingRebalance(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let refused as GroupRebalance {
            noteRebalanceInterruption()
            throw refused
        }
    }

    private static func deadLetters(_ context: SinkTaskContext) -> DeadLetters? {
        guard let queue = context.deadLetters else { return nil }
        return { failures in try await queue.send(failures, stage: "VALUE_CONVERTER") }
    }
}
