import PipelineCore

/// Per topic, per partition: the offset after the last record the stored
/// position covers (what the broker acknowledged up to it).
typealias KafkaCoverage = [String: [Int32: Int64]]

extension KafkaCoverage {
    /// Folds a batch's delivery reports in; `topics[i]` is the topic of
    /// `reports[i]`. Heartbeats (`except`) are not change events: not kept.
    mutating func advance(topics: [String], reports: [DeliveryReport], except: String) {
        // A batch's messages are mostly of one topic: its offsets are looked up once per run of it.
        var index = 0
        while index < Swift.min(topics.count, reports.count) {
            let topic = topics[index]
            var offsets = self[topic] ?? [:]
            while index < reports.count, index < topics.count, topics[index] == topic {
                let report = reports[index]
                if report.offset + 1 > offsets[report.partition] ?? Int64.min { offsets[report.partition] = report.offset + 1 }
                index += 1
            }
            if topic != except { self[topic] = offsets }
        }
    }

    var json: JSON {
        .object(keys.sorted().map { topic in
            let offsets = self[topic]!
            return (topic, .object(offsets.keys.sorted().map { (String($0), .int(offsets[$0]!)) }))
        })
    }

    /// Reads what ``json`` wrote; nil for anything else.
    init?(json: JSON?) {
        guard case .object(let topics)? = json else { return nil }
        var coverage: KafkaCoverage = [:]
        for (topic, partitions) in topics {
            guard case .object(let members) = partitions else { return nil }
            for (key, value) in members {
                guard let partition = Int32(key), case .int(let offset) = value else { return nil }
                coverage[topic, default: [:]][partition] = offset
            }
        }
        self = coverage
    }
}

/// Change events a crashed run delivered to Kafka but never recorded as
/// delivered, recognised when the restarted stream produces them again, so
/// they are not sent twice (deduplication by LSN).
///
/// The source stores its position (``CDCPosition``) at most every second;
/// a process killed in between has events in Kafka after that position,
/// acknowledged or merely written, and the stream resumes before them. So
/// the stored offset also holds the Kafka offsets the position covers
/// (``KafkaCoverage``); on restart the source reads each captured topic from
/// there to its high watermark and keeps the identity of every event found:
/// topic, key bytes, the change's LSN (`source.lsn`) and whether it is a
/// tombstone (which takes the LSN of the delete before it of the same key).
/// A WAL record's LSN is never reused, so an identity cannot match a change
/// that was not delivered: the worst an unrecognised record costs is a
/// duplicate, never a lost change.
///
/// Within a partition the idempotent producer keeps order without gaps, and
/// the stream replays the same changes in the same order: every record found
/// is met again before anything after it is sent to its partition, so later
/// acknowledgements never cover a record still to be met.
struct DeliveredChanges: Sendable {
    struct Identity: Hashable, Sendable {
        var topic: String
        var key: [UInt8]?
        var lsn: UInt64
        var tombstone: Bool
    }

    private var identities: Set<Identity> = []
    /// No change above this LSN can match.
    private(set) var highest: UInt64 = 0
    /// Records whose value named no LSN (not this source's events): not recognisable.
    private(set) var unreadable = 0

    var count: Int { identities.count }
    var isEmpty: Bool { identities.isEmpty }

    /// `messages` in offset order per partition (as ``KafkaRangeReader`` returns them).
    init(_ messages: [KafkaMessage]) {
        var lastLSN: [TopicPartition: [[UInt8]?: UInt64]] = [:]
        for message in messages {
            let partition = message.topicPartition
            if let value = message.value {
                guard let lsn = Self.lsn(of: value) else {
                    unreadable += 1
                    continue
                }
                lastLSN[partition, default: [:]][message.key] = lsn
                insert(Identity(topic: message.topic, key: message.key, lsn: lsn, tombstone: false))
            } else if let lsn = lastLSN[partition]?[message.key] {
                insert(Identity(topic: message.topic, key: message.key, lsn: lsn, tombstone: true))
            }
            // A tombstone whose delete lies before the range: the coverage includes the
            // delete, and a batch never ends between the two, so it cannot be here. Ignored.
        }
    }

    private mutating func insert(_ identity: Identity) {
        identities.insert(identity)
        highest = max(highest, identity.lsn)
    }

    /// Takes `message`, the event of the change at `lsn`, if it was delivered before.
    mutating func take(_ message: KafkaMessage, lsn: LSN) -> Bool {
        guard lsn.value <= highest else { return false }
        return identities.remove(Identity(topic: message.topic, key: message.key, lsn: lsn.value, tombstone: message.value == nil)) != nil
    }

    /// `source.lsn` of a change event's value, with or without the schema envelope.
    static func lsn(of value: [UInt8]) -> UInt64? {
        guard let json = try? JSON.parse(value) else { return nil }
        let payload = json["schema"] != nil ? json["payload"] : json
        guard case .int(let lsn)? = payload?["source"]?["lsn"] else { return nil }
        return UInt64(bitPattern: lsn)
    }
}

extension CDCTask {
    /// Before streaming resumes: reads what an earlier run (or the stream
    /// before a reconnect) delivered after ``stored`` (see ``DeliveredChanges``).
    /// A broker that does not answer is waited for, as the producer would.
    func recoverDelivered() async throws {
        decoder.recovered = nil
        guard let kafka = source.kafka else { return }
        try await untilKafkaAnswers { try await self.readDelivered(kafka) }
    }

    /// Runs `body` again, with the outage backoff, while it fails with a retriable error.
    private func untilKafkaAnswers(_ body: () async throws -> Void) async throws {
        var retry = RetryLoop(waitingFor: "Kafka, to find what was delivered before the restart", logger: logger)
        while true {
            do {
                return try await body()
            } catch where Retry.isRetriable(error) {
                try await retry.failed(error)
            }
        }
    }

    private func readDelivered(_ kafka: KafkaConfiguration) async throws {
        let admin = try KafkaAdmin(configuration: kafka)
        let listed = try await admin.topics()
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (topic, offsets) in covered {
            guard let info = listed.first(where: { $0.name == topic }) else { continue }
            let watermarks = try await admin.watermarks(topic: topic, partitions: info.partitions.map(\.partition))
            for (partition, marks) in watermarks {
                // A partition added since: all of it is after the position.
                var from = offsets[partition] ?? marks.low
                if from > marks.high {
                    logger.warning("\(topic)[\(partition)] ends at \(marks.high), before the stored offset \(from); was the topic recreated? Reading it from \(marks.low)")
                    from = marks.low
                } else if from < marks.low {
                    logger.warning("records of \(topic)[\(partition)] from \(from) to \(marks.low) were pruned; changes they held may be sent again")
                    from = marks.low
                }
                if from < marks.high { ranges[TopicPartition(topic, partition)] = from..<marks.high }
            }
        }
        let messages = try await KafkaRangeReader.read(configuration: kafka, ranges: ranges)
        guard !messages.isEmpty else { return }
        let found = DeliveredChanges(messages)
        logger.notice("\(messages.count) record(s) were delivered after the stored position \(stored.committed); the changes they hold are not sent again")
        if found.unreadable > 0 { logger.warning("\(found.unreadable) record(s) after the stored position name no source.lsn: not change events of this source") }
        if !found.isEmpty { decoder.recovered = found }
    }

    /// Topics captured now whose coverage is not recorded yet start at their
    /// current end: nothing in them is after the stored position.
    func coverCapturedTopics() async throws {
        guard let kafka = source.kafka else { return }
        try await untilKafkaAnswers { try await self.coverCapturedTopics(kafka) }
    }

    private func coverCapturedTopics(_ kafka: KafkaConfiguration) async throws {
        let admin = try KafkaAdmin(configuration: kafka)
        let listed = try await admin.topics()
        for name in captured {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let topic = source.topic(schema: parts[0], table: parts[1])
            guard covered[topic] == nil, let info = listed.first(where: { $0.name == topic }) else { continue }
            covered[topic] = try await admin.watermarks(topic: topic, partitions: info.partitions.map(\.partition)).mapValues(\.high)
        }
    }
}
