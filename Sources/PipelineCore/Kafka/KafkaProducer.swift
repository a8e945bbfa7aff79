import CRdKafka
import Foundation
import Logging

/// Where the broker stored a produced message.
public struct DeliveryReport: Sendable, Hashable {
    public var partition: Int32
    public var offset: Int64
}

/// An idempotent Kafka producer whose `send` completes only when the broker
/// has acknowledged every message (acks=all), so callers can advance their
/// own positions knowing nothing acknowledged can be lost.
///
/// librdkafka's delivery reports are served by `rd_kafka_poll` on a
/// dedicated thread; the async API never blocks the cooperative pool.
public final class KafkaProducer: Sendable {
    private let handle: Handle
    private let logger: Logger
    /// Set on the embedded broker: sends wait while in-process consumers lag.
    private let backlog: BacklogLimiter?

    /// Settings applied unless the configuration overrides them.
    public static let defaultProperties: [String: String] = [
        "enable.idempotence": "true",
        "linger.ms": "5",
        "batch.num.messages": "10000",
        "queue.buffering.max.messages": "500000",
        // librdkafka's default (1 GiB) lets a producer that outruns the
        // broker hold that much in memory; 64 MiB is still thousands of
        // batches, and a full queue only makes `enqueue` wait.
        "queue.buffering.max.kbytes": "65536",
        // Java clients hash keys with murmur2: same key, same partition as Kafka Connect.
        "partitioner": "murmur2_random",
    ]

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "tributary.producer")) throws {
        self.logger = logger
        self.backlog = configuration.embedded?.backlog
        let conf = try configuration.makeNativeConfig(defaults: KafkaProducer.defaultProperties)
        let state = ProducerState()
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        rd_kafka_conf_set_error_cb(conf, producerErrorCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(state).toOpaque())
        let rk = try makeKafkaHandle(RD_KAFKA_PRODUCER, conf)
        self.handle = Handle(rk: rk, state: state)
        handle.startPolling()
    }

    deinit { handle.stop() }

    /// Sends `messages` and returns once the broker acknowledged all of them,
    /// with each message's partition and offset in the same order.
    /// Throws the first delivery error (after librdkafka's own retries).
    /// On the embedded broker, waits first while this process's consumers of
    /// the topic lag close to what the broker keeps (see ``BacklogLimiter``).
    public func send(_ messages: [KafkaMessage]) async throws -> [DeliveryReport] {
        try await enqueue(messages).reports()
    }

    /// Hands `messages` to librdkafka, in order, and returns without waiting
    /// for the broker: many calls may be outstanding at once, which keeps the
    /// producer's queue full. Messages of consecutive calls keep their order
    /// per partition (the producer is idempotent), so a caller that awaits the
    /// returned ``PendingDelivery`` values oldest first learns the longest
    /// acknowledged prefix of what it sent.
    /// On the embedded broker, first waits for room as ``send(_:)-(KafkaMessage])`` does.
    public func enqueue(_ messages: [KafkaMessage]) async throws -> PendingDelivery {
        if let fatal = handle.state.fatalError.value { throw fatal }
        guard !messages.isEmpty else { return PendingDelivery(batch: nil) }
        guard let backlog else { return PendingDelivery(batch: try await produceAll(messages, onFinish: nil)) }
        let reservation = try await backlog.reserve(messages)
        // Released when the last report arrives (on the poll thread), not when
        // the caller looks: a caller waiting for room must not wait on itself.
        return PendingDelivery(batch: try await produceAll(messages) { reports in
            backlog.release(reservation, messages: messages, reports: reports)
        })
    }

    /// Produces every message (retrying while the local queue is full); the
    /// returned batch completes once every delivery report arrived.
    private func produceAll(_ messages: [KafkaMessage], onFinish: (@Sendable ([DeliveryReport]) -> Void)?) async throws -> DeliveryBatch {
        let batch = DeliveryBatch(count: messages.count, onFinish: onFinish)
        // A call's messages almost always share one topic: looked up once.
        var topic: (name: String, rkt: OpaquePointer)?
        var index = 0
        while index < messages.count {
            let message = messages[index]
            if topic?.name != message.topic {
                do {
                    topic = (message.topic, try handle.topic(message.topic))
                } catch {
                    batch.abandon(from: index, error: error)
                    break
                }
            }
            let code = produce(message, to: topic!.rkt, opaque: batch.opaque(for: index))
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                index += 1
                continue
            }
            batch.notProduced(index)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // The local queue drains as the poll thread serves delivery reports.
                do {
                    try await Task.sleep(for: .milliseconds(1))
                } catch {
                    batch.abandon(from: index, error: PipelineError.other("produce to \(message.topic): cancelled"))
                    throw error
                }
                continue
            }
            batch.abandon(from: index, error: kafkaError("produce to \(message.topic)", code))
            break
        }
        return batch
    }

    /// Sends one message; see ``send(_:)-(KafkaMessage])``.
    public func send(_ message: KafkaMessage) async throws -> DeliveryReport {
        try await send([message])[0]
    }

    /// Waits for outstanding messages, then releases the client.
    public func close() async {
        await handle.close()
    }

    private func produce(_ message: KafkaMessage, to rkt: OpaquePointer, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let code = withOptionalBytes(message.key) { key in
            withOptionalBytes(message.value) { value in
                tributary_produce(
                    handle.rk, rkt, message.partition >= 0 ? message.partition : RD_KAFKA_PARTITION_UA,
                    key.baseAddress, key.baseAddress == nil ? 0 : key.count,
                    value.baseAddress, value.baseAddress == nil ? 0 : value.count,
                    headers, message.timestamp ?? 0, opaque)
            }
        }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return code
    }
}

/// Calls `body` with the bytes, or an empty buffer with a nil base for nil (a null key/value).
func withOptionalBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> T) -> T {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    if bytes.isEmpty {
        // An empty (not null) value still needs a non-nil pointer.
        var zero: UInt8 = 0
        return withUnsafeBytes(of: &zero) { body(UnsafeRawBufferPointer(start: $0.baseAddress, count: 0)) }
    }
    return bytes.withUnsafeBytes(body)
}

/// Producer-wide state reachable from librdkafka's callbacks.
final class ProducerState: Sendable {
    let fatalError = Locked<PipelineError?>(nil)
}

/// Messages ``KafkaProducer/enqueue(_:)`` handed to librdkafka, awaiting the broker.
public struct PendingDelivery: Sendable {
    let batch: DeliveryBatch?

    /// Waits until the broker acknowledged every message and returns where
    /// each one went, in order; throws the first delivery error. Call it once.
    public func reports() async throws -> [DeliveryReport] {
        guard let batch else { return [] }
        return try await batch.wait()
    }

    /// Whether every message has its delivery report (or failed), so
    /// ``reports()`` returns without waiting.
    public var isSettled: Bool { batch?.isSettled ?? true }
}

/// Tracks one `send` call's messages until every delivery report arrived.
///
/// Unchecked: `state` is behind its lock, and each slot is written by the
/// producing task before its message goes to librdkafka and read by the poll
/// thread after its report comes back (librdkafka's queues order the two).
final class DeliveryBatch: @unchecked Sendable {
    private struct State {
        var reports: [DeliveryReport]
        var remaining: Int
        var error: PipelineError?
        var continuation: CheckedContinuation<[DeliveryReport], Error>?
        var finished = false
    }
    private let state: Locked<State>
    /// Called once, when nothing is outstanding: the reports, or [] after a failure.
    private let onFinish: (@Sendable ([DeliveryReport]) -> Void)?
    /// One per message: the opaque librdkafka hands back with its report.
    /// One allocation per batch, not an object per message (run 21's profile
    /// of the source alone had the per-message objects' malloc and free).
    private let slots: UnsafeMutablePointer<DeliverySlot>

    init(count: Int, onFinish: (@Sendable ([DeliveryReport]) -> Void)? = nil) {
        state = Locked(State(reports: Array(repeating: DeliveryReport(partition: -1, offset: -1), count: count), remaining: count))
        self.onFinish = onFinish
        slots = .allocate(capacity: count)
    }

    deinit { slots.deallocate() }

    /// The opaque for message `index`, which is about to be produced. It
    /// holds a reference to the batch until its report arrives
    /// (``deliveryCallback``) or ``notProduced(_:)`` gives it back.
    func opaque(for index: Int) -> UnsafeMutableRawPointer {
        (slots + index).initialize(to: DeliverySlot(batch: Unmanaged.passRetained(self), index: index))
        return UnsafeMutableRawPointer(slots + index)
    }

    /// librdkafka refused message `index`: no report will come for its opaque.
    func notProduced(_ index: Int) {
        slots[index].batch.release()
    }

    /// Nothing is outstanding.
    var isSettled: Bool { state.withLock { $0.remaining == 0 } }

    /// Messages from `index` on were never enqueued.
    func abandon(from index: Int, error: PipelineError) {
        finish { state in
            state.remaining -= state.reports.count - index
            if state.error == nil { state.error = error }
        }
    }

    func delivered(index: Int, partition: Int32, offset: Int64, error: PipelineError?) {
        finish { state in
            state.reports[index] = DeliveryReport(partition: partition, offset: offset)
            state.remaining -= 1
            if let error, state.error == nil { state.error = error }
        }
    }

    func wait() async throws -> [DeliveryReport] {
        try await withCheckedThrowingContinuation { continuation in
            finish { $0.continuation = continuation }
        }
    }

    /// Applies `change`; once nothing is outstanding, calls `onFinish` (once)
    /// and resumes the waiter.
    private func finish(_ change: (inout State) -> Void) {
        let (finished, ready) = state.withLock { state -> ([DeliveryReport]?, (CheckedContinuation<[DeliveryReport], Error>, Result<[DeliveryReport], Error>)?) in
            change(&state)
            guard state.remaining == 0 else { return (nil, nil) }
            var finished: [DeliveryReport]?
            if !state.finished {
                state.finished = true
                finished = state.error == nil ? state.reports : []
            }
            guard let continuation = state.continuation else { return (finished, nil) }
            state.continuation = nil
            if let error = state.error { return (finished, (continuation, .failure(error))) }
            return (finished, (continuation, .success(state.reports)))
        }
        if let finished { onFinish?(finished) }
        if let (continuation, result) = ready { continuation.resume(with: result) }
    }
}

/// What librdkafka carries for one message: its batch (retained) and its place there.
struct DeliverySlot {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
    let batch = slot.batch.takeRetainedValue()
    let err = message.pointee.err
    var error: PipelineError?
    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
        // The topic's name only for an error: a report per message must not allocate.
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        error = kafkaError("deliver to \(topic)", err)
    }
    batch.delivered(index: slot.index, partition: message.pointee.partition, offset: message.pointee.offset, error: error)
}

let producerErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { rk, code, reason, opaque in
    let text = reason.map { String(cString: $0) } ?? ""
    if rd_kafka_resp_err_t(code) == RD_KAFKA_RESP_ERR__FATAL, let rk, let opaque {
        var buffer = [CChar](repeating: 0, count: 512)
        let fatalCode = rd_kafka_fatal_error(rk, &buffer, buffer.count)
        let state = Unmanaged<ProducerState>.fromOpaque(opaque).takeUnretainedValue()
        state.fatalError.withLock { $0 = kafkaError("produce (fatal)", fatalCode, detail: stringFromBuffer(buffer)) }
        kafkaLogger.error("fatal producer error: \(stringFromBuffer(buffer))")
    } else {
        kafkaLogger.debug("producer: \(text)")
    }
}
