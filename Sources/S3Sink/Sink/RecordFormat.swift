#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PipelineCore

/// How records become bytes in an object (`format.class`).
public enum RecordFormat: Sendable, Equatable {
    /// `io.confluent.connect.s3.format.json.JsonFormat`: each value's JSON
    /// payload (no schema envelope) followed by `\n`. The payload's bytes are
    /// written as received once validated, so a record written by Kafka
    /// Connect keeps its spelling (numbers such as `1.0E10`, escapes such as
    /// `\u00e9`, spacing, members the schema does not name); a payload that
    /// spans lines, or is `null`, is re-encoded compactly instead.
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
    ///   - record: the decoded record (for JSON without `payload`).
    ///   - rawValue: the message's value bytes as consumed.
    ///   - payload: for JSON, where in `rawValue` the value's payload is, when
    ///     it is to be written as received (already validated; see
    ///     ``S3SinkTask``); nil re-encodes the decoded value.
    func encode(_ record: Record, rawValue: [UInt8]?, payload: Range<Int>? = nil) throws(PipelineError) -> [UInt8] {
        switch self {
        case .json:
            if let rawValue, let payload {
                var bytes = Array(rawValue[payload])
                bytes.append(UInt8(ascii: "\n"))
                return bytes
            }
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

    /// Whether a payload can go into a JSON-lines object as received: not
    /// `null` (a schema default may stand for it) and on one line.
    static func isVerbatim(_ payload: ArraySlice<UInt8>) -> Bool {
        payload.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            return memchr(base, 0x0A, raw.count) == nil && memchr(base, 0x0D, raw.count) == nil
        } && !payload.elementsEqual("null".utf8)
    }
}

/// Object compression (`s3.compression.type`).
public enum CompressionType: String, Sendable, Equatable {
    case none
    case gzip

    /// Appended to the format's extension: `.json.gz`.
    public var fileExtension: String { self == .gzip ? ".gz" : "" }
}
