import ArgumentParser
import ConnectWorker
import Foundation
import Logging
import PipelineCore
import PostgresSource
import ServiceLifecycle

/// `tributary run CONNECTOR.json…`: a standalone worker, as connect-standalone.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run connectors from Kafka Connect JSON files in one process (like connect-standalone).",
        discussion: """
            Each file holds {"name": …, "config": {…}} or a bare config object with a
            connector.class of JdbcSourceConnector (PostgreSQL), JdbcSinkConnector (MySQL)
            or S3SinkConnector. Without --bootstrap-servers, TRIBUTARY_BOOTSTRAP or a
            worker file naming bootstrap.servers, an embedded Kafka cluster starts in
            this process. SIGTERM/SIGINT: finish the batch in hand, commit, exit 0.
            """
    )

    @Argument(help: "Connector JSON files.") var connectorFiles: [String]
    @Option(help: "A Connect worker.properties file (bootstrap.servers, offset.storage.file.filename, producer.*, consumer.*).")
    var worker: String?
    @Option(help: "One offset file for every source (default: .tributary/offsets/<connector>.json each).") var offsetFile: String?
    @Option(help: "Seconds between progress lines (0: none).") var progressInterval: Double = 5
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "tributary.worker")
        var settings = try worker.map { path in try ConnectorFiles.attributed(to: path) { try WorkerSettings.load(path: path) } } ?? WorkerSettings()
        if let servers = kafka.resolvedBootstrap { settings.bootstrapServers = servers }
        if let offsetFile { settings.offsetStorageFile = offsetFile }

        var embedded: EmbeddedKafka?
        if settings.bootstrapServers == nil {
            let cluster = try EmbeddedKafka(brokers: 3)
            logger.notice("no bootstrap.servers given: started the embedded Kafka cluster at \(cluster.bootstrapServers)")
            settings.bootstrapServers = cluster.bootstrapServers
            embedded = cluster
        }
        var cluster = KafkaConfiguration(
            bootstrapServers: settings.bootstrapServers!,
            properties: settings.kafkaProperties.merging(try kafka.properties()) { _, flag in flag })
        cluster.embedded = embedded  // its clients keep records until this process's sinks read them
        let context = WorkerContext(
            kafka: cluster,
            producerProperties: settings.producerProperties, consumerProperties: settings.consumerProperties,
            sharedOffsetStore: settings.offsetStorageFile.map { FileOffsetStore(path: $0) }, logger: logger)

        var connectors: [WorkerConnector] = []
        for (path, spec) in try ConnectorFiles.specs(connectorFiles) {
            connectors.append(try ConnectorFiles.attributed(to: path) { try ConnectorFactory.make(spec, context: context) })
        }
        try await runConnectors(connectors, kafka: cluster, logger: logger, progressInterval: progressInterval)
        withExtendedLifetime(embedded) {}
    }
}

/// Runs connectors on one ``Worker`` until they stop or a signal asks them to stop.
func runConnectors(_ connectors: [WorkerConnector], kafka: KafkaConfiguration, logger: Logger, progressInterval: Double) async throws {
    try await makeServiceGroup(connectors, kafka: kafka, logger: logger, progressInterval: progressInterval).run()
}

/// The connectors' worker as a service group that shuts down gracefully on SIGTERM/SIGINT.
func makeServiceGroup(_ connectors: [WorkerConnector], kafka: KafkaConfiguration, logger: Logger, progressInterval: Double) -> ServiceGroup {
    let worker = Worker(
        connectors: connectors, kafka: kafka,
        progressInterval: progressInterval > 0 ? .milliseconds(Int64(progressInterval * 1000)) : nil, logger: logger)
    return ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [ServiceGroupConfiguration.ServiceConfiguration(service: worker)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
}
