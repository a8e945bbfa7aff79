import ArgumentParser
import ConnectWorker
import Console
import Foundation
import Logging
import PipelineCore
import PostgresSource
import PrometheusExport
import ServiceLifecycle

/// `tributary connect`: a long-running worker serving Kafka Connect's REST
/// API, so the seed's `curl -X PUT …/connectors/NAME/config` commands work.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Run a worker that hosts connectors behind Kafka Connect's REST API (like connect-standalone with its REST port).",
        discussion: """
            Connectors are created, changed, paused, stopped and deleted over HTTP (docs/REST.md).
            Their configs (placeholders unresolved) and target states are kept in
            config.storage.file.filename, source offsets in offset.storage.file.filename
            (default: .tributary/connect/ in the working directory), so a restarted worker
            brings back the same connectors in the same states. Listens on 127.0.0.1:8083
            unless --listeners or the worker file's listeners says otherwise; https is not
            supported. Connector files given here are created (or updated) at start.
            SIGTERM/SIGINT: every connector finishes the batch in hand and commits; exit 0.
            """
    )

    @Argument(help: "Connector JSON files to create or update at start.") var connectorFiles: [String] = []
    @Option(help: "A Connect worker.properties file (bootstrap.servers, listeners, offset.storage.file.filename, config.storage.file.filename, rest.basic.auth.credentials.file, producer.*, consumer.*).")
    var worker: String?
    @Option(help: "Where the REST API listens, e.g. http://127.0.0.1:8083.") var listeners: String?
    @Option(help: "Also serve Confluent Schema Registry's API here, e.g. http://127.0.0.1:8081 (docs/REGISTRY.md).")
    var registryListeners: String?
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "tributary.connect")
        var settings = try worker.map { path in try ConnectorFiles.attributed(to: path) { try WorkerSettings.load(path: path) } } ?? WorkerSettings()
        if let servers = kafka.resolvedBootstrap { settings.bootstrapServers = servers }
        guard let servers = settings.bootstrapServers else {
            // A REST worker outlives its connectors: an in-process cluster would lose every topic on restart.
            throw ValidationError("no Kafka broker: pass --bootstrap-servers, set TRIBUTARY_BOOTSTRAP or bootstrap.servers in the worker file")
        }
        let listener = try HTTPSettings.listener(listeners ?? settings.listeners ?? Listener.loopback.description)
        let offsetFile = settings.offsetStorageFile ?? ".tributary/connect/offsets.json"
        let configFile = settings.configStorageFile
            ?? URL(fileURLWithPath: offsetFile).deletingLastPathComponent().appendingPathComponent("connect-configs.json").path
        let auth = try HTTPSettings.auth(settings.credentialsFile)
        let cluster = KafkaConfiguration(
            bootstrapServers: servers, properties: settings.kafkaProperties.merging(try kafka.properties()) { _, flag in flag })
        let context = WorkerContext(
            kafka: cluster, producerProperties: settings.producerProperties, consumerProperties: settings.consumerProperties,
            sharedOffsetStore: FileOffsetStore(path: offsetFile), logger: logger)
        // Before any connector makes its metrics: swift-metrics takes one backend, first.
        let metrics = PrometheusExport.bootstrap()
        var service = ConnectService(context: context, store: ConfigStore(path: configFile), listener: listener, auth: auth, logger: logger)
        service.web = WebRoutes(console: try Console(kafka: cluster, directory: service.herder), metrics: metrics)
        logger.notice("connector configs in \(configFile), source offsets in \(offsetFile)\(auth == nil ? "" : ", HTTP basic auth on")")

        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: service)]
        if let registryListeners {
            services.append(.init(service: try registry.service(listeners: registryListeners, kafka: cluster, logger: Logger(label: "tributary.registry"))))
        }

        let specs = try ConnectorFiles.specs(connectorFiles)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            if !specs.isEmpty {
                // Created through the herder, as a PUT would: after the stored ones are loaded.
                while service.boundListener.value == nil { try await Task.sleep(for: .milliseconds(20)) }
                for (path, spec) in specs {
                    do {
                        try await service.herder.put(spec.name, config: spec.properties)
                    } catch {
                        throw FileError(path: path, reason: (error as? ConnectRestError)?.message ?? "\(error)")
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }
}
