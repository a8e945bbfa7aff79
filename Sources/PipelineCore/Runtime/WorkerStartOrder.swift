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

    static func arrange(_ connectors: [WorkerConnector], backlog: BacklogLimiter?, logger: Logger) -> [WorkerConnector] {
        guard let backlog else { return connectors }
        let sinks = connectors.filter { $0.role == .sink }.map(\.name)
        let topicsPending = Locked(connectors.count - sinks.count)
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
                        if try await backlog.waitUntilJoined(consumers: sinks.count, timeout: joinTimeout) {
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
                    try await connector.run()
                }
            }
            return ordered
        }
    }
}
