import ArgumentParser
import ConnectWorker
import Foundation
import Logging
import PipelineCore

/// `--log-level`, shared by every long-running command.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Installs a stderr log handler at the chosen level (once per process).
    func bootstrap() {
        let level = logLevel
        LoggingBootstrap.once(level)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LoggingBootstrap {
    private static let done = Locked(false)

    static func once(_ level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Where Kafka is: `--bootstrap-servers`, else `TRIBUTARY_BOOTSTRAP`.
struct KafkaOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers (default: $TRIBUTARY_BOOTSTRAP).")
    var bootstrapServers: String?

    @Option(name: .customLong("kafka"), help: "A librdkafka property KEY=VALUE (repeatable), e.g. security.protocol=ssl.")
    var kafkaProperties: [String] = []

    /// The configured servers, or nil when neither flag nor environment names any.
    var resolvedBootstrap: String? {
        bootstrapServers ?? ProcessInfo.processInfo.environment["TRIBUTARY_BOOTSTRAP"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func properties() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in kafkaProperties {
            guard let eq = item.firstIndex(of: "=") else {
                throw ValidationError("--kafka expects KEY=VALUE, got '\(item)'")
            }
            out[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return out
    }

    /// The Kafka configuration; fails with a clear message when no broker is named.
    func configuration() throws -> KafkaConfiguration {
        guard let servers = resolvedBootstrap else {
            throw ValidationError("no Kafka broker: pass --bootstrap-servers or set TRIBUTARY_BOOTSTRAP")
        }
        return KafkaConfiguration(bootstrapServers: servers, properties: try properties())
    }
}

/// What the HTTP commands (`connect`, `ui`, `registry`) take alike: a
/// listener URL and an optional basic-auth credentials file.
enum HTTPSettings {
    /// Parses a `listeners` value; a bad one is a usage error.
    static func listener(_ text: String) throws -> Listener {
        do {
            return try Listener.parse(text)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// Loads the credentials file, if one is named; errors name the file.
    static func auth(_ path: String?) throws -> BasicAuth? {
        try path.map { path in try ConnectorFiles.attributed(to: path) { try BasicAuth.load(path: path) } }
    }
}
