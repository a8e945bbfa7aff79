import Foundation

/// A value guarded by a lock, for state shared with C callbacks and
/// dedicated threads where actors cannot reach.
public final class Locked<State>: @unchecked Sendable {
    private let lock = NSLock()
    private var state: State

    public init(_ state: State) { self.state = state }

    /// Runs `body` with exclusive access to the state.
    @discardableResult
    public func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    /// A copy of the current state.
    public var value: State { withLock { $0 } }
}
