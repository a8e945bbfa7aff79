import Foundation

/// Routes SIGTERM and SIGINT to `handler` (on a global queue) instead of
/// killing the process; keep the returned sources alive while it applies.
func onTerminationSignals(_ handler: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGTERM, SIGINT].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}

/// Blocks until SIGTERM or SIGINT arrives; returns the exit code to use (0).
func waitForTerminationSignal() -> Int32 {
    let semaphore = DispatchSemaphore(value: 0)
    let sources = onTerminationSignals { semaphore.signal() }
    semaphore.wait()
    withExtendedLifetime(sources) {}
    return 0
}
