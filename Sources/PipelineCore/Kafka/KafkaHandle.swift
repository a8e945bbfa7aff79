import CRdKafka
import Foundation

extension KafkaProducer {
    /// Owns the librdkafka handle and the thread that polls it.
    final class Handle: @unchecked Sendable {
        let rk: OpaquePointer
        let state: ProducerState
        private let stopping = Locked(false)
        /// Topic handles by name, opened on first use, destroyed with the client.
        private let topics = Locked<[String: OpaquePointer]>([:])
        private let finished = Locked<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        init(rk: OpaquePointer, state: ProducerState) {
            self.rk = rk
            self.state = state
        }

        func startPolling() {
            let thread = Thread { [self] in
                // Serves delivery reports and error callbacks until asked to stop.
                while !stopping.value { rd_kafka_poll(rk, 100) }
                // Drain what is still in flight so nothing acknowledged is dropped.
                _ = rd_kafka_flush(rk, 30_000)
                for rkt in topics.value.values { rd_kafka_topic_destroy(rkt) }
                rd_kafka_destroy(rk)
                let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.done = true
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
                _ = Unmanaged.passUnretained(self.state)  // keep the callbacks' opaque alive until now
            }
            thread.name = "kafka-producer-poll"
            thread.start()
        }

        /// The handle of topic `name`, opened on first use. Opening it asks
        /// the cluster for the topic's leaders at once; a topic that
        /// `rd_kafka_producev` meets by name is looked up only by librdkafka's
        /// 1 s topic scan, which held a new producer's first messages for up
        /// to a second (a trace of the source alone showed 0.8 s idle).
        func topic(_ name: String) throws(PipelineError) -> OpaquePointer {
            let (rkt, code) = topics.withLock { open -> (OpaquePointer?, rd_kafka_resp_err_t) in
                if let rkt = open[name] { return (rkt, RD_KAFKA_RESP_ERR_NO_ERROR) }
                guard let rkt = rd_kafka_topic_new(rk, name, nil) else { return (nil, rd_kafka_last_error()) }
                open[name] = rkt
                return (rkt, RD_KAFKA_RESP_ERR_NO_ERROR)
            }
            guard let rkt else { throw kafkaError("produce to \(name)", code) }
            return rkt
        }

        func stop() { stopping.withLock { $0 = true } }

        func close() async {
            stop()
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let alreadyDone = finished.withLock { state -> Bool in
                    if state.done { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if alreadyDone { continuation.resume() }
            }
        }
    }
}
