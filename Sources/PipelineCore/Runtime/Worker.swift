import Logging
import ServiceLifecycle

/// Runs connectors together in one process, as Kafka Connect's standalone
/// worker does: a swift-service-lifecycle `Service`, so a `ServiceGroup`'s
/// graceful shutdown (SIGTERM/SIGINT) stops every connector the graceful way —
/// each finishes the batch in hand, commits and returns, and nothing is lost.
///
/// Each connector runs its own clients (a source's producer window, a
/// sink's consumer); the worker orders their start (on the embedded broker,
/// sinks join before sources read, see ``KafkaConfiguration/embedded``),
/// logs progress, and stops them together:
/// when one connector fails, the others are stopped gracefully and `run()`
/// throws that connector's error.
///
/// ```swift
/// let worker = Worker(connectors: [source, sink], kafka: kafka)
/// let group = ServiceGroup(configuration: .init(
///     services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
public struct Worker: Service {
    public let connectors: [WorkerConnector]
    private let backlog: BacklogLimiter?
    private let progressInterval: Duration?
    private let logger: Logger

    /// A worker for `connectors` on the cluster `kafka`.
    ///
    /// - Parameters:
    ///   - progressInterval: how often to log each connector's count and
    ///     rate; nil logs none.
    public init(
        connectors: [WorkerConnector], kafka: KafkaConfiguration, progressInterval: Duration? = nil,
        logger: Logger = Logger(label: "tributary.worker")
    ) {
        self.connectors = connectors
        self.backlog = kafka.embedded?.backlog
        self.progressInterval = progressInterval
        self.logger = logger
    }

    /// Runs every connector until a graceful shutdown, a cancellation, or
    /// the first connector that stops (with an error or without).
    public func run() async throws {
        let ordered = WorkerStartOrder.arrange(connectors, backlog: backlog, logger: logger)
        let logger = self.logger
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connector in ordered {
                    group.addTask {
                        do {
                            try await connector.run()
                        } catch {
                            if !(error is CancellationError) {
                                logger.error("connector \(connector.name) failed", metadata: ["error": "\(error)"])
                            }
                            throw error
                        }
                    }
                }
                if let interval = progressInterval {
                    let progress = WorkerProgress(connectors: connectors, interval: interval, logger: logger)
                    group.addTask { await progress.run() }
                }
                // The first connector to stop, failing or not, stops the worker.
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}
