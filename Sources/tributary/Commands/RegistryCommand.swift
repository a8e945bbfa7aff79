import ArgumentParser
import ConnectWorker
import Logging
import PipelineCore
import SchemaRegistry
import ServiceLifecycle

/// `tributary registry`: Confluent Schema Registry's REST API, schemas kept
/// in a compacted Kafka topic (docs/REGISTRY.md).
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Serve Confluent Schema Registry's REST API, with schemas kept in a Kafka topic.",
        discussion: """
            Subjects, versions, ids, compatibility levels and deletions are records of the
            compacted topic --topic (default _schemas) in Confluent's own format; a restarted
            registry reads the topic from the beginning and serves the same schemas under the
            same ids. Avro and JSON Schema (docs/REGISTRY.md). Listens on 127.0.0.1:8081 unless
            --listeners says otherwise. `tributary connect --registry-listeners URL` serves
            the same registry beside the Connect REST API.
            """
    )

    @Option(help: "Where the registry listens, e.g. http://127.0.0.1:8081.") var listeners = RegistryOptions.defaultListener
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "tributary.registry")
        let service = try registry.service(listeners: listeners, kafka: try kafka.configuration(), logger: logger)
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [ServiceGroupConfiguration.ServiceConfiguration(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        ).run()
    }
}

/// The registry's options beside its listener, shared by `tributary registry` and `tributary connect`.
struct RegistryOptions: ParsableArguments {
    static let defaultListener = "http://127.0.0.1:8081"

    @Option(name: .customLong("schemas-topic"), help: "The compacted topic holding the schemas (Confluent's kafkastore.topic).")
    var topic = "_schemas"
    @Option(name: .customLong("registry-credentials-file"), help: "A file of user: password lines; when given, every registry request needs HTTP basic auth.")
    var credentialsFile: String?

    /// The registry service on `listeners`.
    func service(listeners: String, kafka: KafkaConfiguration, logger: Logger) throws -> RegistryService {
        let listener = try HTTPSettings.listener(listeners)
        return RegistryService(
            registry: try SchemaRegistry(kafka: kafka, topic: topic, logger: logger), listener: listener, auth: try HTTPSettings.auth(credentialsFile),
            logger: logger)
    }
}
