/// Object keys exactly as Confluent's S3 sink names them:
/// `topics/P_USERS/partition=0/P_USERS+0+0000000000.json`.
///
/// The start offset in the name is what makes re-uploads idempotent: the
/// object rebuilt after a crash, from the same first record, has the same
/// key and replaces the earlier upload instead of duplicating it.
public struct ObjectNaming: Sendable, Equatable {
    /// `topics.dir`; empty puts the topic directories at the bucket root.
    public var topicsDir: String
    /// `directory.delim`.
    public var directoryDelimiter: String
    /// `file.delim`, between topic, partition and offset in the file name.
    public var fileDelimiter: String
    /// `filename.offset.zero.pad.width`.
    public var offsetPadWidth: Int

    /// Naming with Confluent's defaults unless given.
    public init(
        topicsDir: String = "topics", directoryDelimiter: String = "/", fileDelimiter: String = "+",
        offsetPadWidth: Int = 10
    ) {
        self.topicsDir = topicsDir
        self.directoryDelimiter = directoryDelimiter
        self.fileDelimiter = fileDelimiter
        self.offsetPadWidth = offsetPadWidth
    }

    /// The key of the file holding `topic`/`partition` records of
    /// `encodedPartition` that starts at `startOffset`.
    public func key(
        topic: String, partition: Int32, encodedPartition: String, startOffset: Int64, fileExtension: String
    ) -> String {
        let name = topic + fileDelimiter + String(partition) + fileDelimiter
            + Self.zeroPadded(startOffset, width: offsetPadWidth) + fileExtension
        let suffix = directory(topic: topic, encodedPartition: encodedPartition) + directoryDelimiter + name
        return topicsDir.isEmpty ? suffix : topicsDir + directoryDelimiter + suffix
    }

    /// `topic/encodedPartition`, the partitioner's directory for a file.
    public func directory(topic: String, encodedPartition: String) -> String {
        topic + directoryDelimiter + encodedPartition
    }

    /// The prefix under which every file of `topic` lies.
    public func topicPrefix(_ topic: String) -> String {
        (topicsDir.isEmpty ? "" : topicsDir + directoryDelimiter) + topic + directoryDelimiter
    }

    /// `value` in decimal, left-padded with zeros to `width` digits (as
    /// Java's `%0<width>d`; a longer number is not cut).
    public static func zeroPadded(_ value: Int64, width: Int) -> String {
        let digits = String(value.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count - (value < 0 ? 1 : 0)))
        return (value < 0 ? "-" : "") + padding + digits
    }

    /// The start offset of a file key made by ``key(topic:partition:encodedPartition:startOffset:fileExtension:)``,
    /// or nil for a key of another shape.
    public func startOffset(ofKey key: String, topic: String, partition: Int32) -> Int64? {
        let marker = directoryDelimiter + topic + fileDelimiter + String(partition) + fileDelimiter
        guard let range = key.range(of: marker, options: .backwards) else { return nil }
        let digits = key[range.upperBound...].prefix { $0.isNumber }
        return Int64(digits)
    }
}
