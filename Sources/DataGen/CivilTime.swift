/// A calendar date (proleptic Gregorian), formatted by hand: the generator
/// formats millions of these, and Foundation's formatters are far too slow.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    public init(daysSinceEpoch days: Int64) {
        // Counts in 400-year eras of 146,097 days starting 0000-03-01, so that
        // the leap day is the last day of each "year" and months have a fixed shape.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March
        day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// ISO 8601 `YYYY-MM-DD` (years 0...9999).
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        appendISO(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `YYYY-MM-DD` to `bytes` without allocating a String.
    public func appendISO(to bytes: inout [UInt8]) {
        CivilTime.appendDigits(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        CivilTime.appendDigits(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        CivilTime.appendDigits(day, width: 2, to: &bytes)
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// Timestamps as microseconds since the Unix epoch (UTC), PostgreSQL's own
/// resolution, with hand-written formatting.
public enum CivilTime {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerDay: Int64 = 86_400 * microsPerSecond

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, which PostgreSQL reads as a timestamptz
    /// in any session time zone.
    public static func formatTimestamp(micros: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        appendTimestamp(micros: micros, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the `formatTimestamp` text to `bytes`.
    public static func appendTimestamp(micros: Int64, to bytes: inout [UInt8]) {
        // Floor division, so instants before 1970 land on the right day.
        var days = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 {
            days -= 1
            rest += microsPerDay
        }
        CivilDate(daysSinceEpoch: days).appendISO(to: &bytes)
        let seconds = Int(rest / microsPerSecond)
        bytes.append(UInt8(ascii: " "))
        appendDigits(seconds / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(seconds / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(seconds % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(Int(rest % microsPerSecond), width: 6, to: &bytes)
        bytes.append(contentsOf: [UInt8(ascii: "+"), UInt8(ascii: "0"), UInt8(ascii: "0")])
    }

    /// Appends `value` (non-negative) in decimal, zero-padded to `width`.
    public static func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        precondition(width <= 20, "width above 20 digits")
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value.magnitude
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            while count < width {
                buffer[count] = UInt8(ascii: "0")
                count += 1
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }
}
