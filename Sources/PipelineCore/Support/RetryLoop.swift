import Foundation
import Logging

/// An error that knows whether trying again may succeed (a service down or
/// moving, a lost connection), as opposed to one that retrying cannot fix
/// (bad credentials, a missing table, a bad record).
public protocol RetriableError: Error {
    /// Whether the same operation may succeed later.
    var isRetriable: Bool { get }
}

extension PipelineError: RetriableError {}

/// The one retry decision every stage shares.
public enum Retry {
    /// Whether `error` comes from a fault that passes (see ``RetriableError``).
    public static func isRetriable(_ error: any Error) -> Bool {
        (error as? any RetriableError)?.isRetriable ?? false
    }

    /// Runs `body` until it succeeds, waiting out retriable failures with
    /// ``RetryLoop`` (forever unless `maxAttempts` is given). Cancellation
    /// during a wait throws `CancellationError`.
    public static func forever<T>(
        waitingFor service: String, logger: Logger, backoff: Backoff = .outage, maxAttempts: Int? = nil,
        isRetriable: (any Error) -> Bool = Retry.isRetriable, _ body: () async throws -> T
    ) async throws -> T {
        var loop = RetryLoop(waitingFor: service, logger: logger, backoff: backoff)
        while true {
            do {
                let result = try await body()
                loop.succeeded()
                return result
            } catch let error where isRetriable(error) && maxAttempts.map({ loop.attempts + 1 < $0 }) ?? true {
                try await loop.failed(error)
            }
        }
    }
}

/// Waits out an outage: sleeps with ``Backoff`` between attempts, logs at
/// warning level when the trouble starts and then at most once per
/// `reportEvery` (a minute-long outage is a handful of lines, not hundreds),
/// and logs once more when the service answers again.
public struct RetryLoop: Sendable {
    /// What is being waited for, e.g. "the Kafka group coordinator to commit P_USERS-0".
    public let service: String
    private var backoff: Backoff
    private let logger: Logger
    private let reportEvery: Duration
    private let clock = ContinuousClock()
    private var firstFailure: ContinuousClock.Instant?
    private var lastReport: ContinuousClock.Instant?

    public init(waitingFor service: String, logger: Logger, backoff: Backoff = .outage, reportEvery: Duration = .seconds(10)) {
        self.service = service
        self.logger = logger
        self.backoff = backoff
        self.reportEvery = reportEvery
    }

    /// Failed attempts since the last success.
    public var attempts: Int { backoff.attempt }

    /// Notes a failed attempt, logs if due, and sleeps before the next one.
    public mutating func failed(_ error: any Error) async throws {
        let delay = noteFailure(error)
        ConnectorMetrics.current?.retried()
        try await Task.sleep(for: .milliseconds(delay))
    }

    /// ``failed(_:)`` for code on a dedicated thread (a librdkafka callback,
    /// a blocking client's worker), where sleeping the thread is right.
    public mutating func failedBlocking(_ error: any Error) {
        let delay = noteFailure(error)
        Thread.sleep(forTimeInterval: Double(delay) / 1000)
    }

    /// Notes a failed attempt and logs if due, without sleeping: for a
    /// scheduler that runs other work until the returned delay has passed.
    public mutating func delayAfterFailure(_ error: any Error) -> Duration {
        .milliseconds(noteFailure(error))
    }

    /// Notes a success; after failures, logs that the service is back.
    public mutating func succeeded() {
        if let firstFailure {
            logger.notice("\(service): recovered after \(Self.seconds(clock.now - firstFailure)) and \(backoff.attempt) retries")
        }
        firstFailure = nil
        lastReport = nil
        backoff.reset()
    }

    private mutating func noteFailure(_ error: any Error) -> Int {
        let now = clock.now
        let delay = backoff.nextDelayMilliseconds()
        if firstFailure == nil { firstFailure = now }
        if lastReport.map({ now - $0 >= reportEvery }) ?? true {
            lastReport = now
            let waited = firstFailure.map { now - $0 } ?? .zero
            logger.warning("\(service): retry \(backoff.attempt) in \(delay) ms\(waited > .zero ? " (failing for \(Self.seconds(waited)))" : ""): \(error)")
        }
        return delay
    }

    private static func seconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        return String(format: "%.1f s", Double(s) + Double(atto) / 1e18)
    }
}
