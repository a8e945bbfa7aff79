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
