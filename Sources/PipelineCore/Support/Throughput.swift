import Foundation

/// Counts records a stage has handled so progress and rates can be shown
/// without the stage knowing how (the CLI prints them; library users read them).
public final class Throughput: Sendable {
    public let name: String
    private let state: Locked<(total: Int64, started: Date?, lastTotal: Int64, lastTime: Date?)>

    public init(name: String) {
        self.name = name
        state = Locked((0, nil, 0, nil))
    }

    /// Records `count` more handled records.
    public func add(_ count: Int) {
        state.withLock { s in
            if s.started == nil { s.started = Date() }
            s.total += Int64(count)
        }
    }

    /// Records handled so far.
    public var total: Int64 { state.value.total }

    /// The total, the rate since the previous report and the average rate since the first record.
    public func report() -> (total: Int64, recentPerSecond: Double, averagePerSecond: Double) {
        state.withLock { s in
            let now = Date()
            let recent = s.lastTime.map { Double(s.total - s.lastTotal) / max(now.timeIntervalSince($0), 0.001) } ?? 0
            let average = s.started.map { Double(s.total) / max(now.timeIntervalSince($0), 0.001) } ?? 0
            s.lastTotal = s.total
            s.lastTime = now
            return (s.total, recent, average)
        }
    }
}
