import CRdKafka
import Logging

/// The consumer's mutable side, used only on its worker thread (and from the
/// rebalance callback, which librdkafka calls on that same thread).
final class ConsumerState: @unchecked Sendable {
    var rk: OpaquePointer?
    let groupID: String
    let hooks: RebalanceHooks
    let resetPolicy: String
    let logger: Logger
    /// An error found during a rebalance, thrown by the next poll.
    var pendingError: Error?
    let assigned = Locked<Set<TopicPartition>>([])
    /// Partitions revoked while `poll` was collecting a batch.
    private var revokedDuringPoll: Set<TopicPartition> = []
    /// Records between each assigned partition's position and its end, measured at most once a second.
    let lag = Locked<[TopicPartition: Int64]>([:])
    private var lagMeasured: ContinuousClock.Instant?
    /// Wakes the leaders' threads as the queue drains (see ``FetchWakeup``).
    var fetchWakeup: FetchWakeup

    /// Set on the embedded broker: where this consumer reports its positions.
    let backlog: (limiter: BacklogLimiter, id: BacklogLimiter.ConsumerID)?

    init(
        groupID: String, hooks: RebalanceHooks, resetPolicy: String, backlog: (limiter: BacklogLimiter, id: BacklogLimiter.ConsumerID)?,
        fetchWakeup: FetchWakeup, logger: Logger
    ) {
        self.groupID = groupID
        self.fetchWakeup = fetchWakeup
        self.hooks = hooks
        self.resetPolicy = resetPolicy
        self.backlog = backlog
        self.logger = logger
    }

    /// Whether the group ever handed this member an assignment (the rebalance callback ran).
    var everAssigned = false
    /// `partition.assignment.strategy` names cooperative-sticky.
    var cooperativeStrategy = false
    /// Set while ``destroy()`` waits for a first assignment: the rebalance
    /// callback then applies assignments bare, without the hooks.
    private(set) var closing = false

    func destroy() {
        guard let rk else { return }
        backlog.map { $0.limiter.unregister($0.id) }
        waitForFirstAssignmentIfJoining(rk)
        _ = rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
        self.rk = nil
    }

    /// librdkafka before 2.3 (Debian 12 has 2.0.2) aborts the process in
    /// rd_kafka_consumer_close when a cooperative-sticky member closes while
    /// joining, before its first assignment (librdkafka issue 4312; a sink
    /// paused right after it started hits it). So such a member first waits
    /// for that assignment, applied bare: nothing was handed to its task, so
    /// there is nothing to open or revoke. Bounded, so a consumer whose
    /// broker is away still closes.
    private func waitForFirstAssignmentIfJoining(_ rk: OpaquePointer) {
        guard cooperativeStrategy, !everAssigned, !ConsumerState.assignorStateBugFixed else { return }
        closing = true
        let deadline = ContinuousClock.now + .seconds(15)
        while !everAssigned, ContinuousClock.now < deadline {
            // Nothing is processed or committed: the next member reads these again.
            if let raw = rd_kafka_consumer_poll(rk, 100) { rd_kafka_message_destroy(raw) }
        }
    }

    /// librdkafka 2.3.0 fixed the abort (rd_kafka_version() is 0xMMmmrrxx).
    static let assignorStateBugFixed = rd_kafka_version() >= 0x0203_0000

    /// An assignment while closing: applied (or released) without the hooks.
    func applyBare(_ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        guard let rk else { return }
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            _ = cooperative ? rd_kafka_error_code(rd_kafka_incremental_assign(rk, partitions)) : rd_kafka_assign(rk, partitions)
        } else {
            _ = cooperative ? rd_kafka_error_code(rd_kafka_incremental_unassign(rk, partitions)) : rd_kafka_assign(rk, nil)
        }
    }

    /// Up to `maxMessages` (and `maxBytes`), waiting `timeoutMs` for the
    /// first; after it, for `fill` more unless the batch is full sooner.
    func poll(maxMessages: Int, maxBytes: Int, timeoutMs: Int32, fill: Duration) throws -> [KafkaMessage] {
        guard let rk else { throw PipelineError.other("consumer is closed") }
        try throwPending()
        var messages: [KafkaMessage] = []
        var bytes = 0
        var wait = timeoutMs
        // Set by the first message: the poll takes more until then.
        var fillDeadline: ContinuousClock.Instant?
        while messages.count < maxMessages, bytes < maxBytes, let raw = rd_kafka_consumer_poll(rk, wait) {
            defer { rd_kafka_message_destroy(raw) }
            dropRevokedMessages(&messages)
            let deadline = fillDeadline ?? ContinuousClock.now + fill
            fillDeadline = deadline
            wait = Int32(clamping: max(.zero, deadline - ContinuousClock.now).milliseconds)
            let m = raw.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                // A failed assignment explains the fetch errors that follow it.
                try throwPending()
                try handleMessageError(raw)
                continue
            }
            bytes += m.key_len + m.len
            messages.append(KafkaMessage(native: raw))
            try throwPending()
        }
        dropRevokedMessages(&messages)
        try throwPending()
        if fetchWakeup.consumed(messages.count, bytes: bytes) { FetchWakeup.wake(rk, assigned.value) }
        measureLagIfDue(rk)
        if let backlog, !messages.isEmpty {
            var next: [TopicPartition: Int64] = [:]
            for m in messages { next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1) }
            backlog.limiter.consumed(backlog.id, next)
        }
        return messages
    }

    /// Messages collected before a revoke belong to the old assignment: the
    /// sink was told to drop its state for those partitions, and they are
    /// delivered again from the committed offset to whoever owns them now.
    /// Handing them over after the revoke would start files (or batches)
    /// at offsets past the committed one.
    private func dropRevokedMessages(_ messages: inout [KafkaMessage]) {
        guard !revokedDuringPoll.isEmpty else { return }
        messages.removeAll { revokedDuringPoll.contains($0.topicPartition) }
        revokedDuringPoll = []
    }

    private func throwPending() throws {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
    }

    private func handleMessageError(_ raw: UnsafeMutablePointer<rd_kafka_message_t>) throws {
        let m = raw.pointee
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        switch m.err {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            return
        case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
            let tp = TopicPartition(topic, m.partition)
            let low = (try? watermarks(tp).low) ?? -1
            throw PipelineError.recordsPruned(tp, committed: m.offset, logStart: low)
        default:
            let detail = String(cString: rd_kafka_message_errstr(raw))
            if rd_kafka_fatal_error(rk, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw kafkaError("consume (fatal)", m.err, detail: detail)
            }
            // Transient faults (broker down, transport) are retried by librdkafka.
            logger.debug("consumer: \(detail)")
        }
    }

    /// The lag of every assigned partition from local state only (the
    /// position and the high watermark of the last fetch): no broker call.
    private func measureLagIfDue(_ rk: OpaquePointer) {
        let now = ContinuousClock.now
        if let lagMeasured, now - lagMeasured < .seconds(1) { return }
        lagMeasured = now
        let partitions = assigned.value
        var lags: [TopicPartition: Int64] = [:]
        if !partitions.isEmpty {
            let list = PartitionList.make(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if rd_kafka_position(rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR {
                for (tp, position, err) in PartitionList.entries(list) where err == RD_KAFKA_RESP_ERR_NO_ERROR && position >= 0 {
                    var low: Int64 = 0, high: Int64 = 0
                    if rd_kafka_get_watermark_offsets(rk, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 {
                        lags[tp] = max(0, high - position)
                    }
                }
            }
        }
        lag.withLock { $0 = lags }
    }

    func watermarks(_ tp: TopicPartition) throws -> (low: Int64, high: Int64) {
        try AdminCalls.watermarks(rk, tp)
    }

    func committed(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        try AdminCalls.committed(rk, partitions, timeoutMs: 30_000, operation: "fetch committed offsets")
    }

    /// Decides each newly assigned partition's start offset and assigns it.
    ///
    /// A coordinator, broker or sink database that is away (the hook, the
    /// committed offsets and the watermarks all need them) is waited out here:
    /// failing would end the run over an outage. This blocks the consumer's
    /// own thread, which has nothing else to do until the partitions start.
    func onAssign(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let tps = PartitionList.entries(partitions).map(\.0)
        var starts: [TopicPartition: Int64] = [:]
        var retry = RetryLoop(waitingFor: "starting \(tps.map(\.description).joined(separator: ", ")) for group \(groupID)", logger: logger)
        while true {
            do {
                let stored = try hooks.assigned(tps)
                let committed = try self.committed(tps.filter { stored[$0] == nil })
                for i in 0..<Int(partitions.pointee.cnt) {
                    let tp = TopicPartition(String(cString: partitions.pointee.elems[i].topic), partitions.pointee.elems[i].partition)
                    partitions.pointee.elems[i].offset = try startOffset(tp, resumeAt: stored[tp] ?? committed[tp])
                    starts[tp] = partitions.pointee.elems[i].offset
                }
                retry.succeeded()
                break
            } catch let error where Retry.isRetriable(error) {
                retry.failedBlocking(error)
            } catch {
                pendingError = error
                break
            }
        }
        backlog.map { $0.limiter.assigned($0.id, starts) }
        let err: rd_kafka_resp_err_t
        if isCooperative {
            err = rd_kafka_error_code(rd_kafka_incremental_assign(rk, partitions))
        } else {
            err = rd_kafka_assign(rk, partitions)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { pendingError = kafkaError("assign partitions", err) }
        assigned.withLock { $0.formUnion(tps) }
        // Cooperative rebalances also report empty increments: nothing to say.
        if !tps.isEmpty { logger.info("assigned \(tps.map(\.description).joined(separator: ", "))") }
    }

    func onRevoke(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let tps = PartitionList.entries(partitions).map(\.0)
        revokedDuringPoll.formUnion(tps)
        hooks.revoked(tps)
        if isCooperative {
            _ = rd_kafka_incremental_unassign(rk, partitions)
        } else {
            _ = rd_kafka_assign(rk, nil)
        }
        assigned.withLock { $0.subtract(tps) }
        logger.info("revoked \(tps.map(\.description).joined(separator: ", "))")
    }

    private var isCooperative: Bool {
        String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    }

    /// A stored position is checked against the log: below its start means data loss.
    private func startOffset(_ tp: TopicPartition, resumeAt offset: Int64?) throws -> Int64 {
        guard let offset else {
            if !["latest", "largest", "end"].contains(resetPolicy), let low = try? watermarks(tp).low, low > 0 {
                // The in-process cluster started with this process, so nothing
                // below `low` can have been read by this group: it is lost.
                if backlog != nil { throw PipelineError.recordsPruned(tp, committed: 0, logStart: low) }
                logger.warning("\(tp) has no committed offset and its log starts at \(low): records 0..<\(low) were deleted before this group consumed them, or by retention")
            }
            switch resetPolicy {
            case "latest", "largest", "end": return Int64(RD_KAFKA_OFFSET_END)
            case "error", "none": throw PipelineError.kafka(operation: "assign \(tp)", code: -1, reason: "no committed offset and auto.offset.reset=\(resetPolicy)", retriable: false)
            default: return Int64(RD_KAFKA_OFFSET_BEGINNING)
            }
        }
        let marks = try watermarks(tp)
        if offset < marks.low { throw PipelineError.recordsPruned(tp, committed: offset, logStart: marks.low) }
        if offset > marks.high {
            // The log is shorter than what was consumed: the topic was deleted and
            // recreated (or the in-memory broker restarted). Reading on would skip
            // everything below the stored offset.
            throw PipelineError.kafka(
                operation: "resume \(tp)", code: -1,
                reason: "stored offset \(offset) is beyond the end of the log (\(marks.high)); was the topic recreated?", retriable: false)
        }
        return offset
    }
}

let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { rk, err, partitions, opaque in
    guard let opaque, let partitions else { return }
    let state = Unmanaged<ConsumerState>.fromOpaque(opaque).takeUnretainedValue()
    if state.rk == nil { state.rk = rk }
    state.everAssigned = true
    if state.closing {
        state.applyBare(err, partitions)
        return
    }
    if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        state.onAssign(partitions)
    } else {
        state.onRevoke(partitions)
    }
}

extension KafkaMessage {
    /// Copies a native message (key, value, headers, timestamp).
    init(native raw: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = raw.pointee
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var headers: [Header] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(raw, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(Header(name.map { String(cString: $0) } ?? "", bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(raw, &type)
        self.init(
            topic: topic, partition: m.partition, offset: m.offset, key: key, value: value, headers: headers,
            timestamp: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }
}
