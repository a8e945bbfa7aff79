import ArgumentParser
import Foundation
import Logging
import PipelineCore

/// `tributary tail TOPIC`: decoded records, as Kafdrop showed them.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a topic's records, decoded from Connect's JSON envelope."
    )

    @OptionGroup var kafka: KafkaOptions
    @Argument(help: "The topic to read.") var topic: String
    @Flag(help: "Start at the beginning (default: only new records).") var fromBeginning = false
    @Option(help: "Only this partition.") var partition: Int32?
    @Option(help: "Stop after this many records.") var max: Int?
    @Flag(help: "Print the payload only, one JSON line per record.") var payloadOnly = false
    @Option(help: "Stop when no record arrived for this many seconds (default: follow forever).") var idleTimeout: Double?

    func run() async throws {
        let base = try kafka.configuration()
        // A throwaway group that never commits: tailing must not disturb anyone's offsets.
        let group = "tributary-tail-\(UUID().uuidString.prefix(8))"
        let configuration = base.with([
            "auto.offset.reset": fromBeginning ? "earliest" : "latest",
            "session.timeout.ms": "6000",
        ])
        // Only warnings: tail's stdout is the records; the consumer's notices
        // (assignments, one "no committed offset" line per partition of a
        // group that never commits) are noise for a throwaway group.
        var logger = Logger(label: "tributary.tail")
        logger.logLevel = .warning
        let consumer = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let converter = JsonConverter(schemasEnabled: true)
        var printed = 0
        var lastRecord = Date()
        while max.map({ printed < $0 }) ?? true {
            if Task.isCancelled { break }
            let batch = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(500))
            if batch.isEmpty, let idleTimeout, Date().timeIntervalSince(lastRecord) > idleTimeout { break }
            for message in batch where partition == nil || message.partition == partition {
                lastRecord = Date()
                print(Self.escapingControlCharacters(render(message, converter: converter)))
                printed += 1
                if let max, printed >= max { break }
            }
        }
        await consumer.close()
    }

    func render(_ message: KafkaMessage, converter: JsonConverter) -> String {
        let value = message.value.map { display($0, converter: converter) } ?? "null (tombstone)"
        if payloadOnly { return value }
        let key = message.key.map { display($0, converter: converter) } ?? "null"
        return "\(message.position) key=\(key) \(value)"
    }

    /// `text` with every control character (C0, DEL, C1; newlines and tabs
    /// too) written as `\u{XX}`: record bytes must not drive the terminal
    /// (escape sequences) or break the one-record-per-line output.
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The payload of a Connect envelope, or the raw text when it is not one.
    func display(_ bytes: [UInt8], converter: JsonConverter) -> String {
        if let decoded = try? converter.decode(bytes), let payload = try? converter.payloadBytes(decoded) {
            return String(decoding: payload, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
