import Foundation

/// One dedicated OS thread that runs blocking jobs in order.
///
/// libcurl's `curl_easy_perform` blocks its caller for the whole transfer.
/// Running it on Swift's cooperative pool (two threads on a two-core box)
/// would stall every other task, so each ``S3Client`` owns one of these.
/// Jobs receive a thread-confined `State` (for the client: its CURL easy
/// handle), created on the thread and destroyed there when it stops.
final class BlockingThread<State>: @unchecked Sendable {
    // @unchecked: `queue` and `stopping` are only touched under `condition`.
    typealias Job = @Sendable (State) -> Void

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var stopping = false

    /// Starts the thread; `makeState` and `destroyState` run on it.
    init(
        name: String, makeState: @escaping @Sendable () -> State,
        destroyState: @escaping @Sendable (State) -> Void
    ) {
        let thread = Thread { [self] in
            let state = makeState()
            while let job = self.next() { job(state) }
            destroyState(state)
        }
        thread.name = name
        thread.start()
    }

    /// Queues `job`; returns false (and drops it) once ``stop()`` was called.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        queue.append(job)
        condition.signal()
        return true
    }

    /// Lets the thread finish the queued jobs, then end. Idempotent.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body` on the thread and returns its result to the caller's task.
    func run<T: Sendable>(_ body: @escaping @Sendable (State) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let queued = submit { state in continuation.resume(with: Result { try body(state) }) }
            if !queued { continuation.resume(throwing: CancellationError()) }
        }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !stopping { condition.wait() }
        guard head < queue.count else { return nil }
        let job = queue[head]
        head += 1
        if head == queue.count {
            // Reclaim the consumed prefix only when the queue drains, so each
            // take stays O(1) without a deque type.
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }
}
