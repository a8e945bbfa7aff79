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

/// A civil (proleptic Gregorian) date and time of day, UTC.
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    var microsecond = 0

    /// Days since 1970-01-01 to a date (Howard Hinnant's days_from_civil inverse).
    init(days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
        month = Int(m)
        day = Int(d)
    }

    /// Milliseconds since the epoch to a UTC date and time.
    init(epochMilliseconds ms: Int64) {
        let msPerDay: Int64 = 86_400_000
        let days = ms >= 0 ? ms / msPerDay : (ms - msPerDay + 1) / msPerDay  // floor
        self.init(days: days)
        let inDay = ms - days * msPerDay
        hour = Int(inDay / 3_600_000)
        minute = Int(inDay / 60_000 % 60)
        second = Int(inDay / 1000 % 60)
        microsecond = Int(inDay % 1000) * 1000
    }

    /// `YYYY-MM-DD hh:mm:ss.fff`, as DDL default literals need it.
    var datetimeText: String {
        "\(dateText) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(microsecond / 1000, 3))"
    }

    var dateText: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    private func pad(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
