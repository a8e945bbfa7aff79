/// How often and how patiently to retry a failed S3 request.
///
/// Delays grow exponentially from ``initialDelay`` and are capped at
/// ``maxDelay``; each is jittered ("equal jitter": half fixed, half random)
/// so that many clients throttled together do not retry in lock-step.
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

    /// The delay after failed attempt number `attempt` (1-based).
    public func delay<G: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout G) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(initialDelay * (1 << exponent), maxDelay)
        let half = ceiling / 2
        let nanos = Int64(half.components.seconds) * 1_000_000_000
            + half.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return ceiling }
        return half + .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }

    /// The delay after failed attempt number `attempt`, with the system generator.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}
