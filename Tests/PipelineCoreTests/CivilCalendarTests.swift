import XCTest

import PipelineCore

/// The one civil-date module: days since 1970-01-01 <-> (year, month, day),
/// and an instant split into calendar fields.
final class CivilCalendarTests: XCTestCase {
    func testKnownDatesAndTheirDayCounts() {
        let cases: [(year: Int64, month: Int64, day: Int64, days: Int64)] = [
            (1970, 1, 1, 0),
            (1969, 12, 31, -1),
            (2000, 2, 29, 11_016),  // divisible by 400: a leap year
            (2024, 2, 29, 19_782),
            (1900, 3, 1, -25_508),  // 1900 is not a leap year: 02-28 is the day before
            (0, 1, 1, -719_528),  // year 0 (1 BC), MySQL's lowest DATE
            (0, 2, 29, -719_469),  // year 0 is a leap year
            (9999, 12, 31, 2_932_896),  // MySQL's highest DATE
            (-4713, 11, 24, -2_440_588),  // PostgreSQL's lowest date, 4714-11-24 BC (Julian day 0; checked with psql)
            (5_874_897, 12, 31, 2_145_042_905),  // PostgreSQL's highest date (checked with psql)
        ]
        for c in cases {
            XCTAssertEqual(CivilCalendar.days(year: c.year, month: c.month, day: c.day), c.days, "\(c)")
            let date = CivilCalendar.date(days: c.days)
            XCTAssertEqual([date.year, date.month, date.day], [c.year, c.month, c.day], "\(c)")
        }
        XCTAssertEqual(CivilCalendar.days(year: 1900, month: 2, day: 28) + 1, CivilCalendar.days(year: 1900, month: 3, day: 1))
        XCTAssertEqual(CivilCalendar.days(year: -100, month: 2, day: 28) + 1, CivilCalendar.days(year: -100, month: 3, day: 1))
        XCTAssertEqual(CivilCalendar.days(year: -4, month: 2, day: 28) + 2, CivilCalendar.days(year: -4, month: 3, day: 1))
    }

    func testEveryDayRoundTripsAndIsTheDayAfterItsPredecessor() {
        // Two 400-year eras on both sides of year 0, through negative years.
        var previous = CivilCalendar.date(days: -1_000_001)
        for days in Int64(-1_000_000)...Int64(-1_000_000 + 2 * 146_097) {
            let date = CivilCalendar.date(days: days)
            XCTAssertEqual(CivilCalendar.days(year: date.year, month: date.month, day: date.day), days)
            let next = date.day == 1
                ? (date.month == 1 ? previous.year + 1 == date.year && previous.month == 12 && previous.day == 31 : previous.month + 1 == date.month && previous.year == date.year)
                : previous.day + 1 == date.day && previous.month == date.month && previous.year == date.year
            if !next { return XCTFail("\(date) does not follow \(previous)") }
            previous = date
        }
    }

    func testFloorDivideKeepsTheRemainderNonNegative() {
        XCTAssertTrue(CivilCalendar.floorDivide(-1, 1000) == (-1, 999))
        XCTAssertTrue(CivilCalendar.floorDivide(-1000, 1000) == (-1, 0))
        XCTAssertTrue(CivilCalendar.floorDivide(1999, 1000) == (1, 999))
        XCTAssertTrue(CivilCalendar.floorDivide(0, 7) == (0, 0))
    }

    func testAnInstantSplitIntoFields() {
        // 2024-02-29T23:59:58.123Z, a leap day: day 60 of the year.
        let time = CivilDateTime(epochMilliseconds: 1_709_251_198_123)
        XCTAssertEqual(time, CivilDateTime(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58, microsecond: 123_000))
        XCTAssertEqual(time.dayOfYear, 60)
        XCTAssertEqual(time.millisecond, 123)
        XCTAssertEqual(time.daysSinceEpoch, 19_782)
        XCTAssertEqual(CivilDateTime(epochMilliseconds: -1), CivilDateTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_000))
        XCTAssertEqual(CivilDateTime(epochMilliseconds: 1_709_251_198_123, offsetSeconds: 7200).day, 1)
        XCTAssertEqual(CivilDateTime(daysSinceEpoch: -719_528), CivilDateTime(year: 0, month: 1, day: 1))
        XCTAssertEqual(CivilDateTime(year: 2024, month: 12, day: 31).dayOfYear, 366)
        XCTAssertEqual(CivilDateTime(year: 0, month: 12, day: 31).dayOfYear, 366)
        XCTAssertEqual(CivilDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_000),
                       CivilDateTime(epochMilliseconds: 2_932_896 * 86_400_000 + 86_399_999))
    }
}
