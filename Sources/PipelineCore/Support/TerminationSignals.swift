import Foundation

/// Cancels `task` on the first SIGINT or SIGTERM, for programs that run a
/// stage's `run()` in a task without a swift-service-lifecycle `ServiceGroup`.
/// Every stage treats cancellation as a graceful stop (finish the batch in
/// hand, commit, return).
///
/// A second signal more than a second later exits at once, for a stage stuck
/// waiting on an unreachable server. Repeats within that second count as the
/// same request: `timeout` and some supervisors signal both the process and
/// its group. Keep the returned sources alive while the handling applies.
public func cancelOnTerminationSignals<T: Sendable>(
    _ task: Task<T, Error>, notice: String = "stopping: finishing the batch in hand (signal again to quit now)"
) -> [DispatchSourceSignal] {
    let firstSignal = Locked<ContinuousClock.Instant?>(nil)
    return onTerminationSignals { number in
        let now = ContinuousClock.now
        let earlier = firstSignal.withLock { first -> ContinuousClock.Instant? in
            defer { if first == nil { first = now } }
            return first
        }
        if let earlier {
            if now - earlier > .seconds(1) { exitSkippingTeardown(128 + number) }
            return
        }
        FileHandle.standardError.write(Data((notice + "\n").utf8))
        task.cancel()
    }
}

/// Routes SIGINT and SIGTERM to `handler` (on a global queue, with the
/// signal's number) instead of letting them kill the process. Keep the
/// returned sources alive while the handling applies.
public func onTerminationSignals(_ handler: @escaping @Sendable (Int32) -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        // Without SIG_IGN the default action would kill the process before
        // the dispatch source ever sees the signal.
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { handler(number) }
        source.resume()
        return source
    }
}

/// Blocks the calling thread until SIGINT or SIGTERM arrives, for a
/// program with nothing to stop but itself (the embedded broker).
public func waitForTerminationSignal() {
    let semaphore = DispatchSemaphore(value: 0)
    let sources = onTerminationSignals { _ in semaphore.signal() }
    semaphore.wait()
    withExtendedLifetime(sources) {}
}
