import Foundation
import PipelineCore

/// The partitions a sink reads that exist now: of its `topics`, or of every
/// topic `topicsRegex` matches whole (as Connect matches `topics.regex`).
enum SinkPartitions {
    static func existing(topics: [String], topicsRegex: String?, admin: KafkaAdmin) async throws -> Set<TopicPartition> {
        let pattern = try topicsRegex.map { try NSRegularExpression(pattern: TopicsRegex.anchored($0)) }
        let read = try await admin.topics().filter { topic in
            guard let pattern else { return topics.contains(topic.name) }
            return pattern.firstMatch(in: topic.name, range: NSRange(topic.name.startIndex..., in: topic.name)) != nil
        }
        return Set(read.flatMap { topic in topic.partitions.map { TopicPartition(topic.name, $0.partition) } })
    }

    /// How many tasks a sink runs: `tasks.max`, but no more than its
    /// partitions (an idle group member would only take part in rebalances).
    /// With the metadata out of reach, `tasks.max`: extra members stay idle.
    static func taskCount(
        tasksMax: Int, topics: [String], topicsRegex: String?, context: WorkerContext
    ) async -> Int {
        guard tasksMax > 1 else { return 1 }
        do {
            let admin = try KafkaAdmin(configuration: context.consumerConfiguration)
            let partitions = try await existing(topics: topics, topicsRegex: topicsRegex, admin: admin)
            return WorkerTask.count(tasksMax: tasksMax, items: partitions.count)
        } catch {
            context.logger.warning("could not read the partitions of \(topics.joined(separator: ",")); running tasks.max=\(tasksMax) tasks: \(error)")
            return tasksMax
        }
    }
}
