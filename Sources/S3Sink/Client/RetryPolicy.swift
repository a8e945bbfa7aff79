import PipelineCore

/// How often and how patiently to retry a failed S3 request.
///
/// Delays grow exponentially from ``initialDelay`` and are capped at
/// ``maxDelay``; each is jittered (half fixed, half random) so that many
/// clients throttled together do not retry in lock-step.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first included; 1 disables retries.
    public var maxAttempts: Int
    /// The delay before the second attempt, before jitter.
    public var initialDelay: Duration
    /// The largest delay between two attempts, before jitter.
    public var maxDelay: Duration

    /// A policy with the given limits.
    public init(maxAttempts: Int, initialDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// 10 attempts, 100 ms doubling up to 5 s: rides out about 20 s of trouble.
    public static let standard = RetryPolicy(
        maxAttempts: 10, initialDelay: .milliseconds(100), maxDelay: .seconds(5))

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1, initialDelay: .zero, maxDelay: .zero)

    /// The backoff for one request's retries (PipelineCore's capped
    /// exponential backoff; each delay is random in [cap/2, cap]).
    func makeBackoff() -> Backoff {
        Backoff(
            initialMilliseconds: Self.milliseconds(initialDelay), maximumMilliseconds: Self.milliseconds(maxDelay))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
