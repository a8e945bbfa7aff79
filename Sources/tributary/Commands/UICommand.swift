import ArgumentParser
import ConnectWorker
import Console
import Logging
import PipelineCore
import ServiceLifecycle

/// `tributary ui`: the web console for a Kafka cluster alone, as Kafdrop is.
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve the web console (topics, messages, consumer groups) for a Kafka cluster.",
        discussion: """
            Pages under /ui (docs/OBSERVABILITY.md): brokers, topics, partitions and their
            watermarks, messages by offset, consumer groups with their lag. Read-only.
            `tributary connect` serves the same console with its connectors on its own listener.
            Listens on 127.0.0.1:8080 unless --listeners says otherwise.
            """
    )

    @Option(help: "Where the console listens, e.g. http://127.0.0.1:8080.") var listeners = "http://127.0.0.1:8080"
    @Option(name: .customLong("group"), help: "A consumer group to show although the broker does not list groups (repeatable).")
    var groups: [String] = []
    @Option(help: "A file of user: password lines; when given, every page asks for HTTP basic auth.")
    var credentialsFile: String?
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "tributary.ui")
        guard kafka.resolvedBootstrap != nil else {
            throw ValidationError("no Kafka broker: pass --bootstrap-servers or set TRIBUTARY_BOOTSTRAP")
        }
        let listener = try HTTPSettings.listener(listeners)
        let auth = try HTTPSettings.auth(credentialsFile)
        let console = try Console(kafka: try kafka.configuration(), groups: groups)
        let service = ConsoleService(web: WebRoutes(console: console, metrics: nil), listener: listener, auth: auth, logger: logger)
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [ServiceGroupConfiguration.ServiceConfiguration(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        ).run()
    }
}
