import Foundation
import Logging

/// Keeps the producers of this process from running further ahead of the
/// consumer groups of this process than the broker keeps, so no record is
/// pruned before every in-process group has read it.
///
/// ``EmbeddedKafka`` has one (``EmbeddedKafka/backlog``); clients made from
/// its ``EmbeddedKafka/configuration`` use it on their own: every consumer
/// registers its subscription and reports where it was assigned and what
/// `poll` returned, and `KafkaProducer.send` waits in
/// ``waitForRoom(topic:bytes:records:)`` before handing records to librdkafka.
///
/// Lag is measured from what a group has *consumed* (the offset after the
/// last record `poll` returned), not from what it committed: the S3 sink
/// commits only after an upload, so its committed lag can be far larger
/// than what it still needs from the broker. Consumed-but-uncommitted
/// records would be read again after a crash, and only if they still exist;
/// on the embedded broker that cannot matter, as the broker lives in this
/// process and a crash loses it with every record anyway.
///
/// A group that has no position on a partition yet (not joined, not
/// assigned) counts as being at offset 0 of it: a source that starts before
/// its sinks have joined stops after one window instead of being pruned.
/// Topics no in-process consumer subscribes to (a dead-letter topic) are
/// never held back.
public final class BacklogLimiter: Sendable {
    /// How far producers may run ahead of the slowest group, per partition.
    public struct Limits: Sendable, Equatable {
        /// Estimated bytes of record batches not yet consumed.
        public var bytesPerPartition: Int
        /// Records not yet consumed (each may be a batch of its own).
        public var recordsPerPartition: Int

        public init(bytesPerPartition: Int, recordsPerPartition: Int) {
            self.bytesPerPartition = bytesPerPartition
            self.recordsPerPartition = recordsPerPartition
        }

        /// Half of what ``EmbeddedKafka`` keeps: the other half is headroom for
        /// the size estimate and for records produced while a check ran.
        public static let embedded = Limits(
            bytesPerPartition: EmbeddedKafka.retainedBytesPerPartition / 2,
            recordsPerPartition: EmbeddedKafka.retainedBatchesPerPartition / 2)
    }

    /// A registered consumer, for ``unregister(_:)``.
    public struct ConsumerID: Sendable, Hashable {
        let value: Int
    }

    /// Bytes the broker stores per record beyond key, value and headers
    /// (record and batch headers, for a batch of one: the worst case).
    static let recordOverheadBytes = 80

    /// A record's estimated size in a stored batch.
    public static func storedBytes(_ message: KafkaMessage) -> Int {
        message.byteCount
            + message.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 2 } + recordOverheadBytes
    }

    private struct Consumer {
        var group: String
        var subscription: [String]
        var joined = false

        func subscribes(to topic: String) -> Bool {
            subscription.contains { entry in
                guard entry.hasPrefix("^") else { return entry == topic }
                return topic.range(of: entry, options: .regularExpression) != nil
            }
        }
    }

    /// What producers of this process appended to one partition.
    private struct Log {
        var end: Int64 = 0
        var records = 0
        var bytes = 0
        var averageBytes: Int { records == 0 ? 0 : (bytes + records - 1) / records }
    }

    private struct State {
        var nextID = 0
        var consumers: [Int: Consumer] = [:]
        /// Consumed positions (next offset to read) by group.
        var positions: [String: [TopicPartition: Int64]] = [:]
        var logs: [String: [Int32: Log]] = [:]
        /// Records handed to librdkafka but not yet acknowledged, by topic.
        var pending: [String: (bytes: Int, records: Int)] = [:]
    }

    /// How far the slowest group is behind on one partition.
    public struct Lag: Sendable, Equatable {
        public var partition: TopicPartition
        public var records: Int64
        public var bytes: Int64

        public init(partition: TopicPartition, records: Int64, bytes: Int64) {
            self.partition = partition
            self.records = records
            self.bytes = bytes
        }
    }

    public let limits: Limits
    private let state = Locked(State())
    private let lastNotice = Locked<ContinuousClock.Instant?>(nil)
    private let logger = Logger(label: "tributary.backlog")

    public init(limits: Limits) {
        self.limits = limits
    }

    // MARK: consumers

    /// A consumer of `group` subscribing to `topics` (`^`-prefixed entries are regexes).
    public func register(group: String, topics: [String]) -> ConsumerID {
        state.withLock { state in
            state.nextID += 1
            state.consumers[state.nextID] = Consumer(group: group, subscription: topics)
            return ConsumerID(value: state.nextID)
        }
    }

    /// The consumer left: its group no longer holds producers back (unless another member remains).
    public func unregister(_ id: ConsumerID) {
        state.withLock { state in
            guard let gone = state.consumers.removeValue(forKey: id.value) else { return }
            if !state.consumers.values.contains(where: { $0.group == gone.group }) {
                state.positions[gone.group] = nil
            }
        }
    }

    /// `id`'s group was assigned partitions and resumes them at `offsets`
    /// (the logical offset -1, the end, counts as the end of what was
    /// produced; other negative ones as the start of the log).
    public func assigned(_ id: ConsumerID, _ offsets: [TopicPartition: Int64]) {
        state.withLock { state in
            guard let consumer = state.consumers[id.value] else { return }
            state.consumers[id.value]?.joined = true
            for (tp, offset) in offsets {
                let end = state.logs[tp.topic]?[tp.partition]?.end ?? 0
                state.positions[consumer.group, default: [:]][tp] = offset == -1 ? end : max(0, offset)
            }
        }
    }

    /// `id`'s `poll` returned records up to (excluding) `next` on each partition.
    public func consumed(_ id: ConsumerID, _ next: [TopicPartition: Int64]) {
        guard !next.isEmpty else { return }
        state.withLock { state in
            guard let group = state.consumers[id.value]?.group else { return }
            for (tp, offset) in next { state.positions[group, default: [:]][tp] = offset }
        }
    }

    /// Waits until `count` consumers have registered and had their first
    /// assignment (a group join), or `timeout` passed; true when they have.
    public func waitUntilJoined(consumers count: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Checked once more after the deadline: a wake-up that came late still sees a join that happened.
            if state.withLock({ $0.consumers.values.filter(\.joined).count }) >= count { return true }
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: producers

    /// Waits until `records` more records (`bytes` estimated, see ``storedBytes(_:)``)
    /// for `topic` keep every partition's unconsumed backlog within ``limits``,
    /// then counts them as pending until ``delivered(topic:_:bytes:records:)``.
    /// Something always gets through when nothing is unconsumed, however large.
    public func waitForRoom(topic: String, bytes: Int, records: Int) async throws {
        while true {
            let blocked: Lag? = state.withLock { state in
                let worst = Self.worstLag(state, topic: topic)
                let pending = state.pending[topic] ?? (0, 0)
                let idle = (worst?.records ?? 0) == 0 && pending.records == 0
                let fits = Int64(pending.bytes + bytes) + (worst?.bytes ?? 0) <= Int64(limits.bytesPerPartition)
                    && Int64(pending.records + records) + (worst?.records ?? 0) <= Int64(limits.recordsPerPartition)
                guard idle || fits else { return worst ?? Lag(partition: TopicPartition(topic, -1), records: 0, bytes: 0) }
                state.pending[topic, default: (0, 0)].bytes += bytes
                state.pending[topic, default: (0, 0)].records += records
                return nil
            }
            guard let blocked else { return }
            noteWaiting(blocked)
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Records counted by ``waitForRoom(topic:bytes:records:)`` were acknowledged
    /// at `offsets` (partition, offset), or failed (`offsets` empty).
    public func delivered(topic: String, _ offsets: [(partition: Int32, offset: Int64, bytes: Int)], bytes: Int, records: Int) {
        state.withLock { state in
            state.pending[topic, default: (0, 0)].bytes -= bytes
            state.pending[topic, default: (0, 0)].records -= records
            for (partition, offset, size) in offsets where offset >= 0 {
                var log = state.logs[topic, default: [:]][partition, default: Log()]
                log.end = max(log.end, offset + 1)
                log.records += 1
                log.bytes += size
                state.logs[topic, default: [:]][partition] = log
            }
        }
    }

    /// How far the slowest in-process group is behind on `topic`: the most
    /// bytes (and that partition) and the most records on any partition;
    /// nil when no in-process consumer subscribes to it.
    public func worstLag(topic: String) -> Lag? {
        state.withLock { Self.worstLag($0, topic: topic) }
    }

    private static func worstLag(_ state: State, topic: String) -> Lag? {
        let groups = Set(state.consumers.values.filter { $0.subscribes(to: topic) }.map(\.group))
        guard !groups.isEmpty else { return nil }
        var worst = Lag(partition: TopicPartition(topic, 0), records: 0, bytes: 0)
        for (partition, log) in state.logs[topic] ?? [:] {
            let tp = TopicPartition(topic, partition)
            let slowest = groups.map { state.positions[$0]?[tp] ?? 0 }.min() ?? 0
            let records = max(0, log.end - slowest)
            let bytes = records * Int64(log.averageBytes)
            if bytes > worst.bytes { (worst.partition, worst.bytes) = (tp, bytes) }
            worst.records = max(worst.records, records)
        }
        return worst
    }

    /// Says (at most every 10 s) that a producer waits, so a stalled pipeline explains itself.
    private func noteWaiting(_ lag: Lag) {
        let now = ContinuousClock.now
        let due = lastNotice.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(10) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        logger.info("holding the producer back: the slowest in-process consumer of \(lag.partition) is \(lag.records) records (about \(lag.bytes / 1024) KiB) behind, and the embedded broker keeps about \(EmbeddedKafka.retainedBytesPerPartition / 1024 / 1024) MiB per partition")
    }
}

extension BacklogLimiter {
    /// Room ``reserve(_:)`` took for some messages, per topic.
    struct Reservation: Sendable {
        var amounts: [String: (bytes: Int, records: Int)] = [:]
        var sizes: [Int] = []
    }

    /// Waits until every topic among `messages` has room for them and counts
    /// them as pending; ``release(_:messages:reports:)`` gives the room back.
    func reserve(_ messages: [KafkaMessage]) async throws -> Reservation {
        var demand: [String: (bytes: Int, records: Int)] = [:]
        let sizes = messages.map(BacklogLimiter.storedBytes)
        for (message, size) in zip(messages, sizes) {
            demand[message.topic, default: (0, 0)].bytes += size
            demand[message.topic, default: (0, 0)].records += 1
        }
        var reserved = Reservation(sizes: sizes)
        do {
            for (topic, amount) in demand.sorted(by: { $0.key < $1.key }) {
                try await waitForRoom(topic: topic, bytes: amount.bytes, records: amount.records)
                reserved.amounts[topic] = amount
            }
        } catch {
            release(reserved, messages: messages, reports: [])
            throw error
        }
        return reserved
    }

    /// The messages of `reservation` were acknowledged at `reports` (in order),
    /// or failed (`reports` empty).
    func release(_ reservation: Reservation, messages: [KafkaMessage], reports: [DeliveryReport]) {
        for (topic, amount) in reservation.amounts {
            var offsets: [(partition: Int32, offset: Int64, bytes: Int)] = []
            for (index, message) in messages.enumerated() where message.topic == topic && index < reports.count {
                offsets.append((reports[index].partition, reports[index].offset, reservation.sizes[index]))
            }
            delivered(topic: topic, offsets, bytes: amount.bytes, records: amount.records)
        }
    }
}
