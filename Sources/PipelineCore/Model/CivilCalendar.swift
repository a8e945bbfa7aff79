/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01, with
/// no Foundation `Calendar` (pure integer math, safe from any thread, and
/// defined for every year, including year 0 and negative years).
///
/// The algorithms count in 400-year eras of 146,097 days starting on
/// 0000-03-01, so the leap day is the last day of each shifted year and the
/// months have a fixed shape (Howard Hinnant's `days_from_civil`).
public enum CivilCalendar {
    public static let millisecondsPerDay: Int64 = 86_400_000

    /// Days since 1970-01-01 of a date (negative: before). Year 0 is 1 BC.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    public static func date(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Division rounding toward negative infinity, with a remainder in
    /// `0..<divisor` (`divisor` > 0): instants before 1970 land on the right
    /// day, and times of day are never negative.
    public static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

/// A civil date and time of day (proleptic Gregorian), as calendar fields.
public struct CivilDateTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var microsecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.microsecond) = (hour, minute, second, microsecond)
    }

    /// Midnight of the date `days` days after 1970-01-01.
    public init(daysSinceEpoch days: Int64) {
        let date = CivilCalendar.date(days: days)
        self.init(year: Int(date.year), month: Int(date.month), day: Int(date.day))
    }

    /// The time `epochMilliseconds` after the epoch, shifted by a fixed UTC
    /// offset (0: UTC).
    public init(epochMilliseconds: Int64, offsetSeconds: Int = 0) {
        let local = epochMilliseconds + Int64(offsetSeconds) * 1000
        let (days, msOfDay) = CivilCalendar.floorDivide(local, CivilCalendar.millisecondsPerDay)
        self.init(daysSinceEpoch: days)
        hour = Int(msOfDay / 3_600_000)
        minute = Int(msOfDay / 60_000 % 60)
        second = Int(msOfDay / 1000 % 60)
        microsecond = Int(msOfDay % 1000) * 1000
    }

    /// Days since 1970-01-01 of the date part.
    public var daysSinceEpoch: Int64 {
        CivilCalendar.days(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    /// 1 on January 1st, 366 on December 31st of a leap year.
    public var dayOfYear: Int {
        Int(daysSinceEpoch - CivilCalendar.days(year: Int64(year), month: 1, day: 1)) + 1
    }

    /// Milliseconds within the second.
    public var millisecond: Int { microsecond / 1000 }
}
