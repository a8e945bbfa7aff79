import PipelineCore

/// Records a crashed run delivered but never recorded, skipped when the
/// restart reads their rows again: the source's effectively-once recovery.
///
/// The source stores a table's row position only after the broker
/// acknowledged every record it covers, but not after every batch (at most
/// every second during a range). A process killed in between has records in
/// Kafka beyond the stored position; restarting from that position would
/// produce them a second time, and a sink in `insert` mode without a key
/// cannot undo that. So the stored position also carries the Kafka offsets it
/// covers (``KafkaPositions``). On restart, before the table's first read, the
/// source reads the topic from those offsets up to the current high
/// watermarks (``KafkaRangeReader``, no consumer group) and keeps the
/// `(key, value)` bytes of every record found there in this multiset. A
/// message whose exact bytes are in it is not sent again: it takes one
/// occurrence out and counts as delivered at the original record's offset.
///
/// Why byte equality is enough: a row read twice without changing encodes to
/// the same bytes (one schema, fields in schema order, see
/// ``EnvelopeWriter``); a row that changed meanwhile encodes differently and
/// is sent, so a newer version is never lost. No Kafka transactions are
/// involved (the embedded broker does not honour aborts).
///
/// The multiset lives until the first range after the restart that was not
/// full (the reading caught up with the table, so everything the crashed run
/// had read was read again) or until it is empty. While it lives, stored
/// positions never pass a record still in it, so a second crash during the
/// recovery still finds every record the first run left behind.
struct DeliveredRecords: Sendable {
    /// Where a record is in the topic.
    struct Position: Hashable, Sendable {
        var partition: Int32
        var offset: Int64
    }

    struct Bytes: Hashable, Sendable {
        var key: [UInt8]?
        var value: [UInt8]?
    }

    /// Where each distinct record sits, oldest first.
    private var entries: [Bytes: [Position]] = [:]
    /// Per partition, the offsets of the records, ascending, and which are taken.
    private var offsets: [Int32: [Int64]] = [:]
    private var taken: [Int32: Set<Int64>] = [:]
    private var cursors: [Int32: Int] = [:]
    /// Records not yet matched.
    private(set) var count = 0

    init(_ messages: [KafkaMessage]) {
        for message in messages.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let report = Position(partition: message.partition, offset: message.offset)
            entries[Bytes(key: message.key, value: message.value), default: []].append(report)
            offsets[message.partition, default: []].append(message.offset)
        }
        count = messages.count
    }

    var isEmpty: Bool { count == 0 }

    /// Takes one record with exactly `message`'s key and value, returning where it was delivered.
    mutating func take(_ message: KafkaMessage) -> Position? {
        let bytes = Bytes(key: message.key, value: message.value)
        guard var reports = entries[bytes], !reports.isEmpty else { return nil }
        let report = reports.removeFirst()
        entries[bytes] = reports.isEmpty ? nil : reports
        taken[report.partition, default: []].insert(report.offset)
        count -= 1
        return report
    }

    /// The lowest offset in `partition` of a record not taken yet.
    mutating func lowestUntaken(_ partition: Int32) -> Int64? {
        guard let list = offsets[partition] else { return nil }
        var cursor = cursors[partition] ?? 0
        while cursor < list.count, taken[partition]?.contains(list[cursor]) == true { cursor += 1 }
        cursors[partition] = cursor
        return cursor < list.count ? list[cursor] : nil
    }
}

/// One table's recovery state (see ``DeliveredRecords``).
struct Recovery: Sendable {
    /// The Kafka positions have not been looked at yet (done before the first read).
    var pending = true
    /// Per partition, the offset after the last record covered by the table's
    /// row position; nil when positions are not kept (no Kafka configuration, bulk mode).
    var covered: [Int32: Int64]?
    /// Records delivered after `covered` by an earlier run, while a restart re-reads them.
    var delivered: DeliveredRecords?

    /// `covered`, held below any record still awaiting its re-read.
    mutating func positions(topic: String) -> KafkaPositions? {
        guard var offsets = covered else { return nil }
        if delivered != nil {
            for (partition, offset) in offsets {
                if let lowest = delivered!.lowestUntaken(partition), lowest < offset { offsets[partition] = lowest }
            }
        }
        return KafkaPositions(topic: topic, offsets: offsets)
    }

    /// Folds delivery reports into `positions` (each partition's next offset).
    static func advance(_ positions: inout [Int32: Int64], with reports: some Sequence<DeliveredRecords.Position>) {
        for report in reports where report.offset + 1 > positions[report.partition] ?? Int64.min {
            positions[report.partition] = report.offset + 1
        }
    }

    static func merge(_ positions: inout [Int32: Int64], _ other: [Int32: Int64]) {
        for (partition, offset) in other where offset > positions[partition] ?? Int64.min { positions[partition] = offset }
    }
}

extension PostgresSource {
    /// Before a table's first read: learns which records an earlier run
    /// delivered beyond the stored position (see ``DeliveredRecords``), and
    /// where the topic stands, so later stored offsets carry Kafka positions.
    func recover(_ task: inout TableTask) async throws {
        guard let kafka, config.mode != .bulk else {
            task.recovery = Recovery(pending: false)
            return
        }
        let admin = try KafkaAdmin(configuration: kafka)
        let topic = task.topic
        let partitions = try await admin.topics().first { $0.name == topic }?.partitions.map(\.partition) ?? []
        let marks = try await admin.watermarks(topic: topic, partitions: partitions)
        guard let stored = task.offset?.kafka, stored.topic == topic else {
            // A fresh table, or an offset stored without positions: whatever is in
            // the topic now is behind us.
            if let offset = task.offset, task.offsetIsStored {
                let why = offset.kafka == nil ? "has no Kafka positions (stored by an older version)" : "has positions of another topic, \(offset.kafka!.topic)"
                logger.notice("\(task.label): the stored offset \(why); rows delivered after it before a crash may be sent again once")
            }
            task.recovery = Recovery(pending: false, covered: marks.mapValues(\.high))
            // Stored now, before the first row is sent: a run killed before its
            // first regular store leaves these positions, so the restart finds
            // what it delivered instead of reading the table from the start
            // and sending every row again.
            try await storeOffset(&task, task.offset ?? SourceOffset())
            return
        }
        var covered: [Int32: Int64] = [:]
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, (low, high)) in marks {
            var from = stored.offsets[partition] ?? low
            if from > high {
                logger.warning("\(task.label): \(topic)[\(partition)] ends at \(high), before the stored position \(from); was the topic recreated? Reading it from \(low)")
                from = low
            } else if from < low {
                logger.warning("\(task.label): records of \(topic)[\(partition)] from \(from) to \(low) were pruned; rows they held may be sent again")
                from = low
            }
            if stored.offsets[partition] != nil { covered[partition] = from }
            if from < high { ranges[TopicPartition(topic, partition)] = from..<high }
        }
        let messages = try await KafkaRangeReader.read(configuration: kafka, ranges: ranges)
        if !messages.isEmpty {
            logger.notice("\(task.label): \(messages.count) record(s) in \(topic) were delivered after the stored offset \(task.offset!); rows read again unchanged are not sent twice")
        }
        task.recovery = Recovery(pending: false, covered: covered, delivered: messages.isEmpty ? nil : DeliveredRecords(messages))
    }
}
