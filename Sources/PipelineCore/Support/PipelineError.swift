/// Errors shared by every stage. Each names what is at fault (connector, key,
/// topic, partition, offset) and never carries a secret.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration problem, naming the key.
    case config(key: String, reason: String)
    /// A message that cannot be decoded or applied, at `topic-partition@offset`.
    case badMessage(position: String, reason: String)
    /// A Kafka client call failed.
    case kafka(operation: String, code: Int32, reason: String, retriable: Bool)
    /// The consumer's position (`committed`, or 0 when the group has none on
    /// the embedded broker) lies below the partition's log start: records
    /// `committed..<logStart` were deleted (retention, or the mock broker's
    /// pruning) before being consumed. The description says how to recover.
    case recordsPruned(TopicPartition, committed: Int64, logStart: Int64)
    /// Any other failure, with a description.
    case other(String)

    public var description: String {
        switch self {
        case .config(let key, let reason):
            return "configuration error for '\(key)': \(reason)"
        case .badMessage(let position, let reason):
            return "bad message at \(position): \(reason)"
        case .kafka(let operation, let code, let reason, _):
            return "Kafka \(operation) failed (\(code)): \(reason)"
        case .recordsPruned(let tp, let committed, let logStart):
            return "records pruned before they were consumed: \(tp) offsets \(committed)..<\(logStart) (\(logStart - committed) records) were deleted "
                + "(by retention, or by the embedded broker, which keeps about 5 MiB per partition) before this group read them. "
                + "To recover, send them again from the source (stop the worker, delete the source's offset file or reset its offsets, and re-snapshot the table), "
                + "and give the topic room: more partitions (topic.creation.default.partitions), longer retention, or a real Kafka cluster (--bootstrap-servers)"
        case .other(let text):
            return text
        }
    }
}
