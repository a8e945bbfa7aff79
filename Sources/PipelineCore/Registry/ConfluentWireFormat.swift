/// Confluent's wire format for registry converters: magic byte 0, the
/// schema id as a 4-byte big-endian integer, then the payload (Avro binary
/// or JSON).
public enum ConfluentWireFormat {
    public static let magicByte: UInt8 = 0
    /// Magic byte and id.
    public static let headerSize = 5

    /// The header for schema `id`.
    public static func header(id: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: id)
        return [magicByte, UInt8(bits >> 24), UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 8), UInt8(truncatingIfNeeded: bits)]
    }

    /// The schema id of a framed message; an error for anything else.
    public static func schemaID(_ bytes: [UInt8]) throws(CodecError) -> Int32 {
        guard let first = bytes.first else { throw CodecError(path: "", reason: "an empty message has no schema id (Confluent wire format)") }
        guard first == magicByte else {
            throw CodecError(path: "", reason: "unknown magic byte \(first) (Confluent wire format starts with 0); was this written by another converter?")
        }
        guard bytes.count >= headerSize else {
            throw CodecError(path: "", reason: "\(bytes.count) bytes are too short for the Confluent wire format (magic byte and 4-byte schema id)")
        }
        return bytes.withUnsafeBytes { raw in
            var reader = BigEndianReader(bytes: UnsafeRawBufferPointer(rebasing: raw[1..<headerSize]))
            return reader.int32()!
        }
    }
}

/// How a registry converter names the subject a schema is registered under
/// (`key.subject.name.strategy`, `value.subject.name.strategy`).
public enum SubjectNameStrategy: String, Sendable, Hashable, CaseIterable {
    /// `<topic>-key` or `<topic>-value` (the default).
    case topicName = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
    /// The record's full name.
    case recordName = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
    /// `<topic>-<record full name>`.
    case topicRecordName = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"

    /// The strategy a class name (full or short, e.g. `TopicNameStrategy`) names.
    public init?(className: String) {
        let short = className.split(separator: ".").last.map(String.init) ?? className
        guard let match = SubjectNameStrategy.allCases.first(where: { $0.rawValue.hasSuffix("." + short) }) else { return nil }
        self = match
    }

    /// The subject for a key or value of `topic` whose schema is the record `recordName`.
    public func subject(topic: String, isKey: Bool, recordName: String?) throws(CodecError) -> String {
        switch self {
        case .topicName: return "\(topic)-\(isKey ? "key" : "value")"
        case .recordName, .topicRecordName:
            guard let recordName else {
                throw CodecError(path: "", reason: "\(rawValue) needs a record schema (a Connect struct)")
            }
            return self == .recordName ? recordName : "\(topic)-\(recordName)"
        }
    }
}
