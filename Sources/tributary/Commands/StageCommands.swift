import ArgumentParser
import ConnectWorker
import Foundation
import Logging
import PipelineCore
import PostgresSource

/// Options shared by `source postgres`, `sink mysql` and `sink s3`: one
/// connector from a Connect JSON file and/or `--set key=value` properties.
struct SingleConnectorOptions: ParsableArguments {
    @Argument(help: "A connector JSON file ({\"name\":…,\"config\":{…}} or a bare config).") var file: String?
    @Option(name: .customLong("set"), help: "A connector property KEY=VALUE (repeatable; wins over the file).")
    var properties: [String] = []
    @Option(help: "Connector name (default: from the file, else the stage's name).") var name: String?
    @Option(help: "Seconds between progress lines (0: none).") var progressInterval: Double = 5
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    /// Runs the one connector until it fails or SIGTERM/SIGINT stops it gracefully.
    func run(_ kind: ConnectorKind, defaultName: String) async throws {
        logging.bootstrap()
        var spec = ConnectorSpec(name: defaultName, properties: [:])
        if let file {
            spec = try ConnectorFiles.attributed(to: file) { () throws in
                try ConnectorSpec.parse(try ConnectorFiles.read(file), fallbackName: defaultName)
            }
        }
        for item in properties {
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--set expects KEY=VALUE, got '\(item)'") }
            spec.properties[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        if let name { spec.name = name }
        spec.properties["name"] = spec.name
        spec.properties["connector.class"] = kind.rawValue
        let logger = Logger(label: "tributary.worker")
        let context = WorkerContext(
            kafka: try kafka.configuration(), producerProperties: [:], consumerProperties: [:],
            sharedOffsetStore: nil, logger: logger)
        let connector = try file.map { path in try ConnectorFiles.attributed(to: path) { try ConnectorFactory.make(spec, context: context) } }
            ?? ConnectorFactory.make(spec, context: context)
        try await runConnectors([connector], kafka: context.kafka, logger: logger, progressInterval: progressInterval)
    }
}

/// `tributary source …`.
struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source", abstract: "Run a source connector.", subcommands: [PostgresSourceCommand.self])
}

/// `tributary sink …`.
struct SinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink", abstract: "Run a sink connector.", subcommands: [MySQLSinkCommand.self, S3SinkCommand.self])
}

struct PostgresSourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Copy Postgres tables into Kafka (Confluent JDBC source keys: mode, table.whitelist, topic.prefix, …).")
    @OptionGroup var options: SingleConnectorOptions
    func run() async throws { try await options.run(.postgresSource, defaultName: "postgres-source") }
}

struct MySQLSinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mysql",
        abstract: "Write Kafka topics into MySQL (Confluent JDBC sink keys: topics, insert.mode, pk.mode, auto.create, …).")
    @OptionGroup var options: SingleConnectorOptions
    func run() async throws { try await options.run(.mysqlSink, defaultName: "mysql-sink") }
}

struct S3SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3",
        abstract: "Archive Kafka topics to S3 (Confluent S3 sink keys: s3.bucket.name, flush.size, partitioner.class, …).")
    @OptionGroup var options: SingleConnectorOptions
    func run() async throws { try await options.run(.s3Sink, defaultName: "s3-sink") }
}
