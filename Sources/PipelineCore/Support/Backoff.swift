/// Capped exponential backoff with full jitter, for retriable faults
/// (broker down, connection lost, S3 5xx/throttling).
public struct Backoff: Sendable {
    public var initialMilliseconds: Int
    public var maximumMilliseconds: Int
    public private(set) var attempt = 0

    public init(initialMilliseconds: Int = 100, maximumMilliseconds: Int = 10_000) {
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The policy every stage waits out an outage with: 100 ms doubling up to
    /// 2 s, so work flows again within about 2 s of the service's return.
    public static let outage = Backoff(initialMilliseconds: 100, maximumMilliseconds: 2_000)

    /// ``outage`` with a lower cap when a connector's own backoff key
    /// (e.g. `retry.backoff.ms`) asks for one; never above 2 s, so a longer
    /// configured cap does not delay the recovery after an outage.
    public static func outage(cappedAt cap: Duration) -> Backoff {
        let (seconds, attoseconds) = cap.components
        let milliseconds = max(1, Int(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        return Backoff(initialMilliseconds: min(100, milliseconds), maximumMilliseconds: min(2_000, milliseconds))
    }

    /// The next delay in milliseconds: random in [cap/2, cap] where cap doubles each attempt.
    public mutating func nextDelayMilliseconds() -> Int {
        let exponent = min(attempt, 20)
        attempt += 1
        let cap = min(maximumMilliseconds, initialMilliseconds << exponent)
        return cap / 2 + Int.random(in: 0...max(cap / 2, 0))
    }

    /// Sleeps for the next delay.
    public mutating func wait() async throws {
        try await Task.sleep(for: .milliseconds(nextDelayMilliseconds()))
    }

    public mutating func reset() { attempt = 0 }
}
