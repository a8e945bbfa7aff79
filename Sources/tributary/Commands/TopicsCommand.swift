import ArgumentParser
import Foundation
import PipelineCore

/// `tributary topics`: topics, partitions, watermarks and, for named groups, lag.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "List topics with partitions, watermarks and consumer-group lag."
    )

    @OptionGroup var kafka: KafkaOptions
    @Option(name: .customLong("group"), help: "Show this consumer group's committed offsets and lag (repeatable).")
    var groups: [String] = []
    @Option(help: "Only topics whose name contains this text.") var filter: String?

    func run() async throws {
        let configuration = try kafka.configuration()
        let admin = try KafkaAdmin(configuration: configuration)
        let topics = try await admin.topics().filter { filter == nil || $0.name.contains(filter!) }
        var groupNames = groups
        if groupNames.isEmpty, let listed = try? await admin.consumerGroups() { groupNames = listed }
        for topic in topics {
            var rows: [[String]] = []
            var total: Int64 = 0
            var marks: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partition)
                let w = try await admin.watermarks(tp)
                marks[tp] = w
                total += w.high - w.low
                rows.append([String(p.partition), String(p.leader), String(w.low), String(w.high), String(w.high - w.low)])
            }
            print("\(topic.name)  partitions=\(topic.partitions.count)  messages=\(total)")
            printTable(header: ["partition", "leader", "low", "high", "messages"], rows: rows, indent: 2)
            for group in groupNames {
                let committed = try await admin.committedOffsets(group: group, partitions: Array(marks.keys), configuration: configuration)
                guard !committed.isEmpty else { continue }
                var lagRows: [[String]] = []
                var lag: Int64 = 0
                for tp in marks.keys.sorted() {
                    let high = marks[tp]!.high
                    let offset = committed[tp]
                    let partitionLag = high - (offset ?? marks[tp]!.low)
                    lag += partitionLag
                    lagRows.append([String(tp.partition), offset.map(String.init) ?? "-", String(high), String(partitionLag)])
                }
                print("  group \(group)  lag=\(lag)")
                printTable(header: ["partition", "committed", "high", "lag"], rows: lagRows, indent: 4)
            }
        }
        if topics.isEmpty { print("no topics") }
    }
}

/// Prints rows as left-aligned columns.
func printTable(header: [String], rows: [[String]], indent: Int) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    let pad = String(repeating: " ", count: indent)
    for row in all {
        print(pad + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
