import PipelineCore

/// A value bound to a `?` placeholder of a prepared statement.
///
/// Values only ever reach the server this way (binary protocol), never as
/// SQL text, so no value can change the meaning of a statement.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    /// UTF-8 text.
    case text(String)
    case bytes([UInt8])
    /// A DECIMAL in plain text form (`-123.45`), exact.
    case decimal(String)
    /// A DATETIME: milliseconds since the epoch, written as UTC.
    case datetime(milliseconds: Int64)
    /// A DATE: days since the epoch.
    case date(days: Int32)
    /// A TIME: milliseconds since midnight.
    case time(milliseconds: Int32)
}

extension SQLValue {
    /// Days since the epoch of 0000-01-01 and 9999-12-31: the years MySQL and
    /// MariaDB store in DATE and DATETIME (the documented range starts at
    /// 1000, but both store years 0000-0999 exactly).
    static let dateRange: ClosedRange<Int64> = -719_528...2_932_896
    /// Milliseconds since the epoch of 0000-01-01 00:00:00.000 and 9999-12-31 23:59:59.999.
    static let datetimeRange: ClosedRange<Int64> = (dateRange.lowerBound * 86_400_000)...(dateRange.upperBound * 86_400_000 + 86_399_999)

    /// Why the server cannot store this value exactly, or nil when it can.
    /// The C client would clamp an out-of-range year (to 0000-00-00 or
    /// garbage), so such values must never be bound.
    public var outOfRangeReason: String? {
        switch self {
        case .datetime(let ms) where !Self.datetimeRange.contains(ms):
            return "timestamp \(ms) ms since the epoch is outside the DATETIME range 0000-01-01 00:00:00.000 to 9999-12-31 23:59:59.999"
        case .date(let days) where !Self.dateRange.contains(Int64(days)):
            return "date \(days) days since the epoch is outside the DATE range 0000-01-01 to 9999-12-31"
        default:
            return nil
        }
    }
}

extension CivilDateTime {
    /// `YYYY-MM-DD hh:mm:ss.fff`, as DDL default literals need it.
    var datetimeText: String {
        "\(dateText) \(timeText)"
    }

    /// `YYYY-MM-DD`.
    var dateText: String { "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))" }

    /// `hh:mm:ss.fff`.
    var timeText: String { "\(Self.pad(hour, 2)):\(Self.pad(minute, 2)):\(Self.pad(second, 2)).\(Self.pad(millisecond, 3))" }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
