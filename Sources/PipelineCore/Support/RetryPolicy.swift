/// How many times, and how patiently, a client retries a failed call: the
/// one policy type the stages share (Postgres connects, S3 requests).
///
/// Delays follow ``Backoff``: exponential from ``initialDelay``, capped at
/// ``maxDelay``, jittered so that many clients do not retry in lock-step.
/// Which failures are worth a retry is ``Retry/isRetriable(_:)``'s call.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first included; 1 disables retries, `Int.max` retries forever.
    public var maxAttempts: Int
    /// The delay before the second attempt, before jitter.
    public var initialDelay: Duration
    /// The largest delay between two attempts, before jitter.
    public var maxDelay: Duration

    /// A policy with the given limits (at least one attempt).
    public init(maxAttempts: Int, initialDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1, initialDelay: .zero, maxDelay: .zero)

    /// For a running stage: keep trying, at most 2 s apart (``Backoff/outage``),
    /// so work resumes within about 2 s of the service's return.
    public static let forever = RetryPolicy(
        maxAttempts: .max, initialDelay: .milliseconds(Backoff.outage.initialMilliseconds),
        maxDelay: .milliseconds(Backoff.outage.maximumMilliseconds))

    /// Whether another attempt is allowed after `failedAttempts` failures.
    public func allowsAttempt(after failedAttempts: Int) -> Bool {
        failedAttempts < maxAttempts
    }

    /// A fresh backoff with this policy's delays.
    public var backoff: Backoff {
        Backoff(initialMilliseconds: Self.milliseconds(initialDelay), maximumMilliseconds: Self.milliseconds(maxDelay))
    }

    /// Whole milliseconds of `duration` (truncated), clamped to `Int`.
    public static func milliseconds(_ duration: Duration) -> Int {
        duration.milliseconds
    }
}
