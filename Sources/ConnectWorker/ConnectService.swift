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
    /// Set once the server listens: the address actually bound (port 0 picks one).
    public let boundListener = Locked<Listener?>(nil)
    /// The web console (`/ui`) and metrics (`/metrics`) on the same listener; nil serves neither.
    public var web: WebRoutes?

    /// A worker on `context`'s cluster keeping its state in `store`.
    public init(context: WorkerContext, store: ConfigStore, listener: Listener, auth: BasicAuth?, logger: Logger) {
        self.init(context: context, store: store, listener: listener, auth: auth, logger: logger) { spec in
            try ConnectorFactory.make(spec, context: context)
        }
    }

    /// A worker building its connectors with `build` (tests wrap the real factory).
    init(
        context: WorkerContext, store: ConfigStore, listener: Listener, auth: BasicAuth?, logger: Logger,
        build: @escaping ConnectHerder.Builder
    ) {
        let herder = ConnectHerder(store: store, logger: logger, build: build)
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
        try await herder.start()
        let logger = self.logger, bound = self.boundListener, api = self.api
        do {
            try await HTTPListening.serve(listener, handler: RestHandler(api: api, auth: auth, web: web, logger: logger), logger: logger) {
                actual in
                bound.withLock { $0 = actual }
                api.withLock { $0.workerID = "\(actual.host):\(actual.port)" }
                logger.notice("REST API listening on \(actual)")
            }
        } catch {
            await herder.shutdown()
            throw error
        }
        logger.notice("stopping every connector gracefully")
        await herder.shutdown()
    }
}
