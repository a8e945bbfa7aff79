import CRdKafka
import Foundation

extension KafkaProducer {
    /// Owns the librdkafka handle and the thread that polls it.
    final class Handle: @unchecked Sendable {
        let rk: OpaquePointer
        let state: ProducerState
        private let stopping = Locked(false)
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
