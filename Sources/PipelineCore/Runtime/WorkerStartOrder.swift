import Logging

/// On the embedded broker, a worker's connectors start in the order that
/// keeps every record until its sinks have read it: the sources create
/// their topics (with partitions for their tables' backlog), the sinks join
/// their groups on those topics, and only then do the sources read rows.
/// The ``BacklogLimiter`` then holds the sources back whenever the slowest
/// sink lags close to what the broker keeps.
///
/// A real broker keeps topics and committed offsets across runs, so there
/// the connectors start together, as in Connect.
enum WorkerStartOrder {
    /// How long sources wait for the sinks to join before starting anyway
    /// (the limiter holds them back for every sink whose consumer started).
    static let joinTimeout: Duration = .seconds(60)

    /// What the sinks planned: how many have decided their tasks, and how
    /// many consumers (one a task) those tasks join with.
    struct SinkPlans {
        var sinks = 0
        var consumers = 0
    }

    static func arrange(_ connectors: [WorkerConnector], backlog: BacklogLimiter?, logger: Logger) -> [WorkerConnector] {
        guard let backlog else { return connectors }
        let sinks = connectors.filter { $0.role == .sink }.map(\.name)
        let topicsPending = Locked(connectors.count - sinks.count)
        let plans = Locked(SinkPlans())
        return connectors.map { connector in
            var ordered = connector
            switch connector.role {
            case .source:
                ordered.run = {
                    do {
                        do {
                            try await connector.prepare?()
                        } catch {
                            topicsPending.withLock { $0 -= 1 }
                            throw error
                        }
                        topicsPending.withLock { $0 -= 1 }
                        if try await waitForSinks(sinks.count, plans: plans, backlog: backlog) {
                            if !sinks.isEmpty { logger.info("\(connector.name): sinks \(sinks.joined(separator: ", ")) joined their groups; reading rows") }
                        } else {
                            logger.warning("\(connector.name): sinks \(sinks.joined(separator: ", ")) did not all join within \(joinTimeout); reading rows anyway: the source waits for the sinks whose consumers started, and a later one fails, naming what was pruned before it joined")
                        }
                    } catch is CancellationError {
                        return  // stopped before reading anything
                    }
                    try await connector.run()
                }
            case .sink:
                ordered.run = {
                    do {
                        while topicsPending.value > 0 { try await Task.sleep(for: .milliseconds(20)) }
                    } catch is CancellationError {
                        return
                    }
                    // A sink's tasks (with tasks.max, one consumer each) are known
                    // only once its topics exist; the sources wait for all of them.
                    let tasks = try await connector.tasks()
                    plans.withLock { $0.sinks += 1; $0.consumers += tasks.count }
                    try await WorkerTask.runTogether(tasks)
                }
            }
            return ordered
        }
    }

    /// Waits until all `sinks` have planned their tasks and every task's
    /// consumer has joined, or ``joinTimeout`` passed; true when they have.
    private static func waitForSinks(_ sinks: Int, plans: Locked<SinkPlans>, backlog: BacklogLimiter) async throws -> Bool {
        let deadline = ContinuousClock.now + joinTimeout
        while plans.value.sinks < sinks {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await backlog.waitUntilJoined(consumers: plans.value.consumers, timeout: deadline - ContinuousClock.now)
    }
}
