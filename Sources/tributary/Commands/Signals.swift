import Foundation

/// Blocks until SIGTERM or SIGINT arrives; returns the exit code to use (0).
func waitForTerminationSignal() -> Int32 {
    let semaphore = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { semaphore.signal() }
        source.resume()
        sources.append(source)
    }
    semaphore.wait()
    withExtendedLifetime(sources) {}
    return 0
}
