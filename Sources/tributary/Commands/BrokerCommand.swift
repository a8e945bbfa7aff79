import ArgumentParser
import Foundation
import PipelineCore

/// `tributary broker`: the embedded Kafka cluster in its own process, so tests
/// and the demo can kill pipeline processes while the broker keeps its data.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka cluster (librdkafka's mock brokers) on loopback.",
        discussion: """
            Prints the bootstrap address as the first line of standard output, then
            reads fault-injection commands, one per line, from standard input:
              down ID | up ID              take a broker down or bring it back
              rtt ID MILLISECONDS          add round-trip latency to a broker
              errors APIKEY CODE[,CODE…]   fail the next requests of an API (0=Produce, 1=Fetch, 8=OffsetCommit)
              clear APIKEY                 forget queued request errors
              create TOPIC [PARTITIONS]    create a topic (default --partitions)
            Each command answers "ok" or "error: …". Data lives in memory only;
            each partition keeps about 5 MiB. SIGTERM or SIGINT stops it.
            """
    )

    @Option(help: "Number of brokers.") var brokers = 3
    @Option(help: "Partitions of topics created with --topic or the create command.") var partitions = 4
    @Option(help: "Write the bootstrap address to this file too.") var bootstrapFile: String?
    @Option(name: .customLong("topic"), help: "Create this topic at start (repeatable).") var topics: [String] = []

    func run() throws {
        let cluster = try EmbeddedKafka(brokers: brokers)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(3, brokers)) }
        print(cluster.bootstrapServers)
        fflush(nil)
        if let bootstrapFile {
            // Written atomically so a waiting script never reads half an address.
            try (cluster.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        let control = BrokerControl(cluster: cluster, defaultPartitions: partitions)
        let commands = Thread { control.readCommands() }
        commands.name = "broker-control"
        commands.start()
        waitForTerminationSignal()
        cluster.close()
        if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
        exitSkippingTeardown(0)  // a requested stop; the control thread still reads
    }
}

/// Executes fault-injection commands read from standard input.
struct BrokerControl: Sendable {
    let cluster: EmbeddedKafka
    let defaultPartitions: Int

    func readCommands() {
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            guard !words.isEmpty else { continue }
            do {
                try execute(words)
                print("ok")
            } catch {
                print("error: \(error)")
            }
            fflush(nil)
        }
    }

    func execute(_ words: [String]) throws {
        func int(_ i: Int) throws -> Int32 {
            guard i < words.count, let v = Int32(words[i]) else { throw PipelineError.other("expected a number in position \(i + 1)") }
            return v
        }
        switch words[0] {
        case "down": try cluster.setBrokerDown(try int(1))
        case "up": try cluster.setBrokerUp(try int(1))
        case "rtt": try cluster.setRoundTripTime(broker: try int(1), milliseconds: Int(try int(2)))
        case "errors":
            guard words.count == 3 else { throw PipelineError.other("usage: errors APIKEY CODE[,CODE…]") }
            let codes = words[2].split(separator: ",").compactMap { Int32($0) }
            cluster.pushRequestErrors(apiKey: Int16(try int(1)), errors: codes)
        case "clear": cluster.clearRequestErrors(apiKey: Int16(try int(1)))
        case "create":
            guard words.count >= 2 else { throw PipelineError.other("usage: create TOPIC [PARTITIONS]") }
            let count = words.count > 2 ? Int(try int(2)) : defaultPartitions
            try cluster.createTopic(words[1], partitions: count, replicationFactor: min(3, cluster.brokerIDs.count))
        default:
            throw PipelineError.other("unknown command '\(words[0])'")
        }
    }
}
