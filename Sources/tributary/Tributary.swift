import ArgumentParser
import Foundation
import PipelineCore

/// The `tributary` command: a thin front end over the stage libraries.
@main
struct Tributary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Stream Postgres changes through Kafka into MySQL and S3.",
        subcommands: [DemoCommand.self, RunCommand.self, ConnectCommand.self, RegistryCommand.self, UICommand.self, GenerateCommand.self, SourceCommand.self, SinkCommand.self, BrokerCommand.self, TopicsCommand.self, TailCommand.self, ConfigReferenceCommand.self]
    )

    /// ArgumentParser's own `main`, except that the process ends through
    /// ``exitSkippingTeardown(_:)``: `exit()`'s library teardown raced with
    /// pool threads still releasing the connectors' clients after a
    /// graceful stop, and aborted the process with a double free.
    static func main() async {
        MallocSettings.apply()
        var status: Int32 = 0
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success {
                    print(message)
                } else {
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                }
            }
            status = code.rawValue
        }
        exitSkippingTeardown(status)
    }
}
