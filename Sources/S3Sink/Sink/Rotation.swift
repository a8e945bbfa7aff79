/// When a Kafka partition's open files are finished and uploaded:
/// Confluent's `flush.size`, `rotate.interval.ms` and `rotate.schedule.interval.ms`.
public struct RotationPolicy: Sendable, Equatable {
    /// `flush.size`: records per file before it is committed.
    public var flushSize: Int
    /// `rotate.interval.ms`: the most record time one file may span; nil is off.
    public var rotateIntervalMilliseconds: Int64?
    /// `rotate.schedule.interval.ms`: wall-clock rotation, aligned to local
    /// midnight in the partitioner's time zone; nil is off.
    public var scheduleIntervalMilliseconds: Int64?

    /// A policy with the given rules.
    public init(flushSize: Int, rotateIntervalMilliseconds: Int64? = nil, scheduleIntervalMilliseconds: Int64? = nil) {
        self.flushSize = flushSize
        self.rotateIntervalMilliseconds = rotateIntervalMilliseconds
        self.scheduleIntervalMilliseconds = scheduleIntervalMilliseconds
    }
}

/// The rotation state of one Kafka partition: pure decisions, no I/O, so
/// the rules can be tested alone. Mirrors Confluent's TopicPartitionWriter.
struct RotationState {
    let policy: RotationPolicy
    let zone: ZoneRules
    /// Records written into the open files.
    private(set) var recordCount = 0
    /// Record time of the first record in the open files.
    private(set) var baseRecordTime: Int64?
    /// The encoded partition of the last record written.
    private(set) var currentEncodedPartition: String?
    /// When the schedule next rotates (epoch ms), if scheduled rotation is on.
    private(set) var nextScheduledRotation: Int64?

    init(policy: RotationPolicy, zone: ZoneRules, now: Int64) {
        self.policy = policy
        self.zone = zone
        scheduleNext(now: now)
    }

    /// Whether the open files must be committed before writing a record with
    /// this encoded partition and record time (the record then starts the
    /// next files): the files are still full (their upload threw and the
    /// caller went on: they are uploaded as they are, not given an extra
    /// record), the record-time span would exceed `rotate.interval.ms`,
    /// a time-partitioned record moved to a new partition, or the schedule is due.
    func shouldRotate(before encodedPartition: String, recordTime: Int64?, timeBased: Bool, now: Int64) -> Bool {
        guard recordCount > 0 else { return false }
        if isFull { return true }
        if let interval = policy.rotateIntervalMilliseconds, let base = baseRecordTime, let time = recordTime {
            if time - base >= interval { return true }
            if timeBased && encodedPartition != currentEncodedPartition { return true }
        }
        return isScheduleDue(now: now)
    }

    /// Whether the schedule says the open files are due (checked even when
    /// no records arrive).
    func isScheduleDue(now: Int64) -> Bool {
        guard recordCount > 0, let next = nextScheduledRotation else { return false }
        return now >= next
    }

    /// Whether `flush.size` is reached.
    var isFull: Bool { recordCount >= policy.flushSize }

    mutating func recordWritten(encodedPartition: String, recordTime: Int64?, now: Int64) {
        if recordCount == 0 {
            baseRecordTime = recordTime
            // After an idle spell the old boundary is in the past; a new file
            // gets the schedule's next boundary, not an instant rotation.
            if let next = nextScheduledRotation, next <= now { scheduleNext(now: now) }
        }
        recordCount += 1
        currentEncodedPartition = encodedPartition
    }

    /// Starts over after the open files were committed (or discarded).
    mutating func reset(now: Int64) {
        recordCount = 0
        baseRecordTime = nil
        currentEncodedPartition = nil
        scheduleNext(now: now)
    }

    private mutating func scheduleNext(now: Int64) {
        nextScheduledRotation = policy.scheduleIntervalMilliseconds.map { zone.nextBoundary(after: now, interval: $0) }
    }
}
