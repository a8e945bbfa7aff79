import Foundation
import PipelineCore

/// Where a record goes inside its topic's directory: Confluent's "encoded
/// partition", e.g. `partition=0` or `year=2024/month=05`.
///
/// Partitioners must be deterministic in the record (never in the wall
/// clock, except ``TimestampExtractor/wallclock`` which the user chose):
/// the same records after a crash must land in the same files.
public protocol Partitioner: Sendable {
    /// The encoded partition of `record`; `now` (epoch ms) serves only the
    /// wall-clock extractor.
    func encodedPartition(for record: Record, now: Int64) throws(PipelineError) -> String
    /// The record time that `rotate.interval.ms` measures.
    func recordTime(for record: Record, now: Int64) throws(PipelineError) -> Int64?
}

/// `io.confluent.connect.storage.partitioner.DefaultPartitioner`: `partition=<kafka partition>`.
public struct DefaultPartitioner: Partitioner {
    /// A default partitioner.
    public init() {}

    public func encodedPartition(for record: Record, now: Int64) throws(PipelineError) -> String {
        "partition=\(record.partition)"
    }

    /// The Kafka timestamp; Confluent ignores `rotate.interval.ms` without a
    /// time-based partitioner, we rotate on the record's Kafka time instead.
    public func recordTime(for record: Record, now: Int64) throws(PipelineError) -> Int64? {
        record.timestamp
    }
}

/// `io.confluent.connect.storage.partitioner.FieldPartitioner`:
/// `name=value` for each of `partition.field.name`, joined by `/`.
public struct FieldPartitioner: Partitioner {
    /// The value fields to partition by; dotted names reach nested structs.
    public var fieldNames: [String]
    /// `directory.delim`.
    public var delimiter: String

    /// A partitioner on `fieldNames`.
    public init(fieldNames: [String], delimiter: String = "/") {
        self.fieldNames = fieldNames
        self.delimiter = delimiter
    }

    public func encodedPartition(for record: Record, now: Int64) throws(PipelineError) -> String {
        var parts: [String] = []
        for name in fieldNames {
            let value = try Self.field(name, of: record)
            let text: String
            switch value {
            case .int(let number): text = String(number)
            case .string(let string): text = string
            case .bool(let flag): text = flag ? "true" : "false"
            default:
                throw PipelineError.badMessage(
                    position: Self.position(record),
                    reason: "partition field '\(name)' must be an integer, string or boolean, not \(Self.kind(value))")
            }
            parts.append("\(name)=\(text)")
        }
        return parts.joined(separator: delimiter)
    }

    public func recordTime(for record: Record, now: Int64) throws(PipelineError) -> Int64? { record.timestamp }

    /// The value of a (possibly dotted) field of a struct or string-keyed map value.
    static func field(_ path: String, of record: Record) throws(PipelineError) -> Value {
        guard var current = record.value?.value else {
            throw PipelineError.badMessage(
                position: position(record), reason: "a null value has no field '\(path)' to partition by")
        }
        for component in path.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            let next: Value?
            switch current {
            case .struct: next = current[field: component]
            case .map(let entries):
                next = entries.first { entry in
                    if case .string(let key) = entry.key { return key == component }
                    return false
                }?.value
            default: next = nil
            }
            guard let next else {
                throw PipelineError.badMessage(
                    position: position(record), reason: "the value has no field '\(path)' to partition by")
            }
            current = next
        }
        return current
    }

    static func position(_ record: Record) -> String { "\(record.topic)-\(record.partition)@\(record.offset)" }

    static func kind(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "floating point"
        case .string: return "string"
        case .bytes: return "bytes"
        case .array: return "array"
        case .map: return "map"
        case .struct: return "struct"
        case .timestamp: return "Timestamp"
        case .date: return "Date"
        case .time: return "Time"
        case .decimal: return "Decimal"
        }
    }
}

/// Where a time-based partitioner takes a record's time from (`timestamp.extractor`).
public enum TimestampExtractor: Sendable, Equatable {
    /// `Wallclock`: the time the sink processes the record (not repeatable).
    case wallclock
    /// `Record`: the Kafka record's timestamp.
    case record
    /// `RecordField` with `timestamp.field`: an int64 (epoch ms), a
    /// Timestamp, or an ISO 8601 string field of the value.
    case recordField(String)

    /// Record times a path can be computed for: about ±285 million years.
    /// Joda-Time, which Confluent's partitioner uses, stops near ±292 million
    /// years (Connect fails beyond); the margin keeps time-zone and bucket
    /// arithmetic from overflowing.
    static let supportedMilliseconds: ClosedRange<Int64> = -9_000_000_000_000_000...9_000_000_000_000_000

    func timestamp(for record: Record, now: Int64) throws(PipelineError) -> Int64 {
        let time = try unchecked(record, now: now)
        guard Self.supportedMilliseconds.contains(time) else {
            throw PipelineError.badMessage(
                position: FieldPartitioner.position(record),
                reason: "record time \(time) ms is outside the range a time-based partition can be computed for (about ±285 million years)")
        }
        return time
    }

    private func unchecked(_ record: Record, now: Int64) throws(PipelineError) -> Int64 {
        switch self {
        case .wallclock:
            return now
        case .record:
            guard let timestamp = record.timestamp else {
                throw PipelineError.badMessage(
                    position: FieldPartitioner.position(record), reason: "the record has no Kafka timestamp")
            }
            return timestamp
        case .recordField(let name):
            switch try FieldPartitioner.field(name, of: record) {
            case .int(let milliseconds), .timestamp(let milliseconds):
                return milliseconds
            case .date(let days):
                return Int64(days) * 86_400_000
            case .string(let text):
                if let date = Self.parseISO8601(text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
                throw PipelineError.badMessage(
                    position: FieldPartitioner.position(record),
                    reason: "timestamp field '\(name)' is not an ISO 8601 time: '\(text)'")
            case let other:
                throw PipelineError.badMessage(
                    position: FieldPartitioner.position(record),
                    reason: "timestamp field '\(name)' is a \(FieldPartitioner.kind(other)), not a time")
            }
        }
    }

    static func parseISO8601(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

/// `io.confluent.connect.storage.partitioner.TimeBasedPartitioner` (and its
/// `HourlyPartitioner` / `DailyPartitioner` presets): the record time,
/// floored to `partition.duration.ms` in `timezone`, formatted with `path.format`.
public struct TimeBasedPartitioner: Partitioner {
    let pathFormat: PathFormat
    let zone: ZoneRules
    /// `partition.duration.ms`.
    public let durationMilliseconds: Int64
    /// `timestamp.extractor`.
    public let extractor: TimestampExtractor

    /// A time-based partitioner.
    ///
    /// - Throws: `PipelineError.config` for an unsupported `path.format`,
    ///   an unknown `timezone` or a non-positive duration.
    public init(
        pathFormat: String, durationMilliseconds: Int64, timeZone: String, extractor: TimestampExtractor
    ) throws(PipelineError) {
        guard durationMilliseconds > 0 else {
            throw PipelineError.config(key: "partition.duration.ms", reason: "must be positive for a time-based partitioner")
        }
        guard !pathFormat.isEmpty else {
            throw PipelineError.config(key: "path.format", reason: "a time-based partitioner needs a path format")
        }
        self.pathFormat = try PathFormat(pathFormat)
        self.zone = try ZoneRules(identifier: timeZone, key: "timezone")
        self.durationMilliseconds = durationMilliseconds
        self.extractor = extractor
    }

    public func encodedPartition(for record: Record, now: Int64) throws(PipelineError) -> String {
        let time = try extractor.timestamp(for: record, now: now)
        return pathFormat.format(zone.civil(zone.bucketStart(time, granularity: durationMilliseconds)))
    }

    public func recordTime(for record: Record, now: Int64) throws(PipelineError) -> Int64? {
        try extractor.timestamp(for: record, now: now)
    }
}
