import PipelineCore

/// The open files of one Kafka partition and its rotation state.
///
/// Every record of the partition after the last committed offset is in one
/// of the open files (or was skipped as a null or dead letter). Rotation
/// uploads all open files, and only then is the offset after the last
/// record committed, synchronously: at most one batch of uploaded but
/// uncommitted objects exists per partition, and a restart rebuilds it from
/// the same start offsets, under the same keys.
final class PartitionWriter {
    let topicPartition: TopicPartition
    private var rotation: RotationState
    /// Open files by encoded partition.
    private var files: [String: ObjectWriter] = [:]
    /// The offset of the last record taken (written, skipped or dead-lettered).
    private(set) var lastOffset: Int64?
    /// The next offset to commit once the open files are uploaded.
    private var pendingCommit: Int64? { lastOffset.map { $0 + 1 } }

    init(topicPartition: TopicPartition, rotation: RotationState) {
        self.topicPartition = topicPartition
        self.rotation = rotation
    }

    var hasOpenFiles: Bool { !files.isEmpty }
    var openFileCount: Int { files.count }
    var recordCount: Int { rotation.recordCount }

    /// Whether the open files must be committed before a record with this
    /// encoded partition and time.
    func shouldRotate(before encodedPartition: String, recordTime: Int64?, timeBased: Bool, now: Int64) -> Bool {
        rotation.shouldRotate(before: encodedPartition, recordTime: recordTime, timeBased: timeBased, now: now)
    }

    /// Whether the open files are due without a new record: the schedule
    /// (`rotate.schedule.interval.ms`) or, when record time is the wall
    /// clock, `rotate.interval.ms` (as Confluent checks on every put).
    func isDueWithoutRecord(now: Int64, recordTimeIsWallClock: Bool) -> Bool {
        if rotation.isScheduleDue(now: now) { return true }
        guard recordTimeIsWallClock, let current = rotation.currentEncodedPartition else { return false }
        return rotation.shouldRotate(before: current, recordTime: now, timeBased: true, now: now)
    }

    /// Whether `flush.size` is reached.
    var isFull: Bool { rotation.isFull }

    /// Appends a record's bytes to the file of `encodedPartition`, opening
    /// it (named by this record's offset) if needed.
    func write(
        _ bytes: [UInt8], offset: Int64, encodedPartition: String, recordTime: Int64?, now: Int64,
        open: (String, Int64) -> ObjectWriter
    ) async throws(S3Error) {
        let file: ObjectWriter
        if let existing = files[encodedPartition] {
            file = existing
        } else {
            file = open(encodedPartition, offset)
            files[encodedPartition] = file
        }
        try await file.append(bytes)
        rotation.recordWritten(encodedPartition: encodedPartition, recordTime: recordTime, now: now)
        lastOffset = offset
    }

    /// Notes a record that was taken without being written (null value
    /// ignored, or sent to the dead-letter topic): committed with the next batch.
    func skip(offset: Int64) {
        lastOffset = offset
    }

    /// Uploads every open file, then commits the offset after the last
    /// record through `commit`. Returns the committed offset, if any.
    @discardableResult
    func rotate(now: Int64, commit: ([TopicPartition: Int64]) async throws -> Void) async throws -> Int64? {
        // Sorted, so a rebuilt batch uploads in the same order.
        for key in files.keys.sorted() { try await files[key]!.commit() }
        files = [:]
        rotation.reset(now: now)
        guard let offset = pendingCommit else { return nil }
        // Synchronous, before any record after this batch is taken: moving
        // on without it would leave two uncommitted batches, which a rebuild
        // could no longer replace exactly. On a `SinkRunner` the context
        // waits out outages and throws `GroupRebalance` when the group moved on.
        try await commit([topicPartition: offset])
        return offset
    }

    /// Throws away the open files (aborting multipart uploads); the records
    /// in them will be consumed again from the last committed offset.
    func discard(now: Int64) async {
        for key in files.keys.sorted() { await files[key]!.discard() }
        files = [:]
        rotation.reset(now: now)
        lastOffset = nil
    }
}
