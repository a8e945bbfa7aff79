import FlyingFox
import FlyingSocks
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import PipelineCore
import PostgresSource
import ServiceLifecycle

/// `tributary connect`: a worker that hosts connectors behind Kafka
/// Connect's REST API, as a swift-service-lifecycle `Service`. A graceful
/// shutdown (SIGTERM/SIGINT in a `ServiceGroup`) stops the HTTP server, then
/// every connector the graceful way (batch in hand finished and committed);
/// the stored target states stay, so the next start resumes them.
public struct ConnectService: Service {
    public let herder: ConnectHerder
    private let api: Locked<ConnectRestAPI>
    private let listener: Listener
    private let auth: BasicAuth?
    private let logger: Logger
    private let statuses: KafkaStatusStore?
    /// Set once the server listens: the address actually bound (port 0 picks one).
    public let boundListener = Locked<Listener?>(nil)
    /// The web console (`/ui`) and metrics (`/metrics`) on the same listener; nil serves neither.
    public var web: WebRoutes?
    /// Distributed mode: the worker's hold on its group. Losing it stops
    /// every connector and ends the service with an error (fail-stop: the
    /// group may have another worker by then); a graceful stop leaves the group.
    public var lease: WorkerGroupLease?
    /// The certificate and key of an `https://` listener.
    public var tls: TLSSettings?

    /// A worker on `context`'s cluster keeping its state in `store`, and
    /// (distributed mode) publishing statuses to `statuses`.
    public init(
        context: WorkerContext, store: any ConfigStore, statuses: KafkaStatusStore? = nil, listener: Listener, auth: BasicAuth?,
        logger: Logger
    ) {
        self.init(context: context, store: store, statuses: statuses, listener: listener, auth: auth, logger: logger) { spec in
            try ConnectorFactory.make(spec, context: context)
        }
    }

    /// A worker building its connectors with `build` (tests wrap the real factory).
    init(
        context: WorkerContext, store: any ConfigStore, statuses: KafkaStatusStore? = nil, listener: Listener, auth: BasicAuth?,
        logger: Logger, build: @escaping ConnectHerder.Builder
    ) {
        let herder = ConnectHerder(store: store, statuses: statuses, logger: logger, build: build)
        self.statuses = statuses
        statuses?.workerID.withLock { $0 = "\(listener.host):\(listener.port)" }
        self.herder = herder
        let admin = Locked<KafkaAdmin?>(nil)
        let kafka = context.kafka
        self.api = Locked(
            ConnectRestAPI(
                herder: herder, context: context, workerID: "\(listener.host):\(listener.port)",
                clusterID: {
                    let client: KafkaAdmin? = admin.withLock { cached in
                        if cached == nil { cached = try? KafkaAdmin(configuration: kafka) }
                        return cached
                    }
                    return try? await client?.clusterID()
                }))
        self.listener = listener
        self.auth = auth
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await herder.start()
            try await serveWhileLeaseHeld()
        } catch {
            await herder.shutdown()
            await lease?.release()
            throw error
        }
        logger.notice("stopping every connector gracefully")
        await herder.shutdown()
        await lease?.release()
    }

    /// Serves the REST API until a graceful shutdown; throws when the
    /// server fails or the group's lease is lost.
    private func serveWhileLeaseHeld() async throws {
        let logger = self.logger, bound = self.boundListener, api = self.api, statuses = self.statuses, herder = self.herder
        let listener = self.listener, handler = RestHandler(api: api, auth: auth, web: web, logger: logger), lease = self.lease
        let tls = self.tls
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await RestListening.serve(listener, tls: tls, handler: handler, logger: logger) { actual in
                    bound.withLock { $0 = actual }
                    api.withLock { $0.workerID = "\(actual.host):\(actual.port)" }
                    if let statuses {
                        statuses.workerID.withLock { $0 = "\(actual.host):\(actual.port)" }
                        Task { await herder.republishStatuses() }
                    }
                    logger.notice("REST API listening on \(actual)")
                }
            }
            if let lease {
                group.addTask {
                    await lease.waitUntilLost()
                    guard !Task.isCancelled else { return }
                    throw PipelineError.other(
                        "this worker lost its group's lease (no heartbeat reached the group within session.timeout.ms); "
                            + "stopping every connector: another worker may run them now")
                }
            }
            // The server returns on a graceful shutdown: the lease watch ends with it.
            try await group.next()
            group.cancelAll()
        }
    }
}
