/// Runs operations keyed by connector name one after another, in the order
/// they were enqueued. Enqueueing is synchronous (no suspension point), so
/// on an actor the order is the order of the calls.
struct OperationChain {
    private var tails: [String: Task<Void, Never>] = [:]

    /// Starts `operation` once the previous one for `key` has finished.
    mutating func enqueue<T: Sendable>(
        _ key: String, _ operation: @escaping @Sendable () async throws -> T
    ) -> Task<T, any Error> {
        let previous = tails[key]
        let task = Task<T, any Error> {
            await previous?.value
            return try await operation()
        }
        tails[key] = Task { _ = await task.result }
        return task
    }
}
