import PipelineCore

/// Whether the S3 sink may resume a partition at another offset (KIP-875's
/// alter and reset) without duplicating records or overwriting an object
/// with different content.
///
/// The sink resumes at its group's committed offset and names each object
/// after its first record's offset. Resuming at `N` writes the records from
/// `N` on again, into objects starting at `N`. That is harmless when no
/// existing object holds a record at or after `N`: moving forward to or past
/// the committed offset. Going back is harmless only to an offset where an
/// existing object starts, with the default partitioner and rotation by
/// `flush.size` alone: then the objects are rebuilt from the same records
/// under the same names with the same content, as after a crash (if
/// `flush.size` and the format are unchanged since they were written).
/// Anywhere else, the new objects would hold records that existing objects
/// hold too — Confluent's sink then writes the duplicates; this one refuses.
public struct ResumePoint: Sendable {
    /// The sink's config (naming, partitioner, rotation).
    public let config: S3SinkConfig

    public init(config: S3SinkConfig) { self.config = config }

    /// The objects of `topicPartition` in `keys` (any encoded partition),
    /// with the offset each starts at, in offset order.
    public func objects(of topicPartition: TopicPartition, in keys: [String]) -> [(key: String, start: Int64)] {
        keys.compactMap { key -> (key: String, start: Int64)? in
            guard key.hasSuffix(config.fileExtension),
                let start = config.naming.startOffset(ofKey: key, topic: topicPartition.topic, partition: topicPartition.partition)
            else { return nil }
            return (key, start)
        }.sorted { $0.start < $1.start }
    }

    /// Why resuming `topicPartition` at `offset` would duplicate or change
    /// archived records, or nil when it is safe. `committed` is where the
    /// sink would resume today (nil: no commit, so where its last object
    /// ends is unknown); `objects` as ``objects(of:in:)`` lists them.
    public func problem(
        _ topicPartition: TopicPartition, at offset: Int64, committed: Int64?, objects: [(key: String, start: Int64)]
    ) -> String? {
        let rewritten = objects.filter { $0.start >= offset }
        let everyObjectBefore = committed.map { offset >= $0 } ?? objects.isEmpty
        if rewritten.isEmpty && everyObjectBefore { return nil }
        if rebuildsIdentically, objects.contains(where: { $0.start == offset }) { return nil }
        let boundaries = rebuildsIdentically
            ? objects.map(\.start).sorted { abs($0 - offset) < abs($1 - offset) }.prefix(3).sorted().map(String.init) : []
        let shown = (rewritten.isEmpty ? objects.filter { $0.start < offset }.suffix(1) : rewritten.prefix(3)).map(\.key)
        return "resuming \(topicPartition) at offset \(offset) would make the S3 sink write records that existing objects "
            + "already hold (\(shown.joined(separator: ", "))) into objects with other names or content; "
            + "choose an offset at or after where it resumes now (\(committed.map(String.init) ?? "no committed offset"))"
            + (boundaries.isEmpty
                ? (rebuildsIdentically ? "" : " (with this partitioner or time-based rotation, rebuilt objects differ from the existing ones)")
                : ", or one where an object starts (\(boundaries.joined(separator: ", ")))")
            + ", or first delete the objects that hold records from offset \(offset) on"
    }

    /// The default partitioner with `flush.size` rotation only: objects of a
    /// partition are consecutive, and each is rebuilt the same from its start.
    private var rebuildsIdentically: Bool {
        config.partitioner == .default && config.rotation.rotateIntervalMilliseconds == nil
            && config.rotation.scheduleIntervalMilliseconds == nil
    }
}
