import PipelineCore

/// How records become bytes in an object (`format.class`).
public enum RecordFormat: Sendable, Equatable {
    /// `io.confluent.connect.s3.format.json.JsonFormat`: each value's JSON
    /// payload (no schema envelope) followed by `\n`.
    case json
    /// `io.confluent.connect.s3.format.bytearray.ByteArrayFormat`: each raw
    /// value followed by `separator` (`format.bytearray.separator`).
    case byteArray(separator: [UInt8], fileExtension: String)

    /// `.json` or the byte-array extension (`format.bytearray.extension`).
    public var fileExtension: String {
        switch self {
        case .json: return ".json"
        case .byteArray(_, let fileExtension): return fileExtension
        }
    }

    /// The bytes one record adds to its object, separator included.
    ///
    /// - Parameters:
    ///   - record: the decoded record (for JSON).
    ///   - rawValue: the message's value bytes as consumed (for byte arrays).
    func encode(_ record: Record, rawValue: [UInt8]?) throws(PipelineError) -> [UInt8] {
        switch self {
        case .json:
            guard let value = record.value else { return Array("null\n".utf8) }
            do {
                return try JsonConverter(schemasEnabled: false).payloadBytes(value) + [UInt8(ascii: "\n")]
            } catch {
                throw PipelineError.badMessage(
                    position: "\(record.topic)-\(record.partition)@\(record.offset)", reason: "\(error)")
            }
        case .byteArray(let separator, _):
            return (rawValue ?? []) + separator
        }
    }
}

/// Object compression (`s3.compression.type`).
public enum CompressionType: String, Sendable, Equatable {
    case none
    case gzip

    /// Appended to the format's extension: `.json.gz`.
    public var fileExtension: String { self == .gzip ? ".gz" : "" }
}
