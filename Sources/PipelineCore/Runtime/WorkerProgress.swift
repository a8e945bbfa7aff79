import Logging

/// Logs each connector's record count and rate every few seconds, for as
/// long as the worker runs.
struct WorkerProgress: Sendable {
    let connectors: [WorkerConnector]
    let interval: Duration
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            for connector in connectors {
                let report = connector.throughput.report()
                guard report.recentPerSecond > 0 else { continue }
                logger.info("\(connector.name): \(report.total) records, \(Int(report.recentPerSecond))/s now, \(Int(report.averagePerSecond))/s average")
            }
        }
    }
}
