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
        let address: sockaddr_in
        do {
            address = try .inet(ip4: listener.host, port: listener.port)
        } catch {
            await herder.shutdown()
            throw PipelineError.config(key: "listeners", reason: "cannot listen on \(listener): \(error)")
        }
        let server = HTTPServer(address: address, logger: .disabled, handler: RestHandler(api: api, auth: auth, web: web, logger: logger))
        let logger = self.logger, listener = self.listener, bound = self.boundListener, api = self.api
        let stopping = Locked(false)
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    try await server.waitUntilListening(timeout: 30)
                    var actual = listener
                    if case .ip4(_, let port)? = await server.listeningAddress { actual.port = port }
                    bound.withLock { $0 = actual }
                    api.withLock { $0.workerID = "\(actual.host):\(actual.port)" }
                    logger.notice("REST API listening on \(actual)")
                    try await group.next()
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                Task { await server.stop(timeout: 3) }
            }
        } catch where stopping.value {
            // Stopping the server ends its `run()` with CancellationError or
            // SocketError.disconnected, depending on the race: the graceful path.
            logger.debug("REST API stopped", metadata: ["error": "\(error)"])
        } catch {
            await herder.shutdown()
            throw error
        }
        logger.notice("stopping every connector gracefully")
        await herder.shutdown()
    }
}
