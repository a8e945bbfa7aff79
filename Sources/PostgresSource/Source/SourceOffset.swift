import PipelineCore

/// A table's position: every row at or below it has been delivered to Kafka.
///
/// Stored as JSON, e.g. `{"incrementing":42}` or
/// `{"timestamp":"2024-05-01 10:00:00.123456+00","incrementing":42}`. The
/// timestamp is kept as PostgreSQL's own text of the value (microseconds, UTC),
/// so it compares exactly when handed back as a parameter.
public struct SourceOffset: Sendable, Hashable, CustomStringConvertible {
    public var timestamp: String?
    public var incrementing: Int64?

    public init(timestamp: String? = nil, incrementing: Int64? = nil) {
        self.timestamp = timestamp
        self.incrementing = incrementing
    }

    public var json: JSON {
        var members: [(String, JSON)] = []
        if let timestamp { members.append(("timestamp", .string(timestamp))) }
        if let incrementing { members.append(("incrementing", .int(incrementing))) }
        return .object(members)
    }

    public init?(json: JSON) {
        guard case .object = json else { return nil }
        timestamp = json["timestamp"]?.stringValue
        if case .int(let value)? = json["incrementing"] { incrementing = value }
        if timestamp == nil && incrementing == nil { return nil }
    }

    public var description: String {
        [timestamp.map { "timestamp \($0)" }, incrementing.map { "incrementing \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}
