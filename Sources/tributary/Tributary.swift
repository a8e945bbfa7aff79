import ArgumentParser

/// The `tributary` command: a thin front end over the stage libraries.
@main
struct Tributary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Stream Postgres changes through Kafka into MySQL and S3.",
        subcommands: [DemoCommand.self, RunCommand.self, ConnectCommand.self, GenerateCommand.self, SourceCommand.self, SinkCommand.self, BrokerCommand.self, TopicsCommand.self, TailCommand.self, ConfigReferenceCommand.self]
    )
}
