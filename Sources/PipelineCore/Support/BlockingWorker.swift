import Foundation

/// One dedicated OS thread that runs blocking C calls (libpq, libmysqlclient,
/// curl_easy, rd_kafka_*poll) in order, so they never occupy Swift's
/// cooperative thread pool (two threads on a 2-core machine).
///
/// Jobs run strictly one at a time, which also serializes access to C handles
/// that are not thread-safe.
public final class BlockingWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopped = false
    private let name: String

    /// Starts the thread.
    public init(name: String) {
        self.name = name
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { shutdown() }

    /// Runs `body` on the worker thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = enqueue {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            if !accepted {
                continuation.resume(throwing: PipelineError.other("worker thread '\(name)' has been shut down"))
            }
        }
    }

    /// Queues `job` without waiting; false when the worker is shut down.
    @discardableResult
    public func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Runs `cleanup` on the worker thread after the queued jobs, then ends
    /// the thread. For owners of C handles (in `deinit`): the handle is freed
    /// on the thread that used it, never on whichever thread happened to drop
    /// the last reference (often one of the cooperative pool's, where a
    /// blocking close does not belong).
    public func shutdown(after cleanup: @escaping () -> Void) {
        enqueue(cleanup)
        shutdown()
    }

    /// Lets queued jobs finish, then ends the thread.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        // Foundation keeps Thread.name to itself on Linux; the kernel's name
        // (15 bytes) is what perf, top and gdb show.
        #if os(Linux)
        if let file = fopen("/proc/thread-self/comm", "w") {
            fputs(String(decoding: name.utf8.prefix(15), as: UTF8.self), file)
            fclose(file)
        }
        #endif
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job() }
        }
    }
}
