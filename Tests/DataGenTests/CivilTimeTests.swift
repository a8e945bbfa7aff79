import XCTest

@testable import DataGen

final class CivilTimeTests: XCTestCase {
    func testKnownDates() {
        XCTAssertEqual(CivilDate(daysSinceEpoch: 0), CivilDate(year: 1970, month: 1, day: 1))
        XCTAssertEqual(CivilDate(daysSinceEpoch: -1), CivilDate(year: 1969, month: 12, day: 31))
        XCTAssertEqual(CivilDate(year: 2000, month: 2, day: 29).daysSinceEpoch, 11_016)
        XCTAssertEqual(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch, 11_017)
        XCTAssertEqual(CivilDate(year: 1900, month: 3, day: 1).daysSinceEpoch - CivilDate(year: 1900, month: 2, day: 28).daysSinceEpoch, 1)
        XCTAssertEqual(CivilDate(daysSinceEpoch: 19_723).description, "2024-01-01")
    }

    func testRoundTripOverFourCenturies() {
        var previous = CivilDate(daysSinceEpoch: -146_098)
        for days in Int64(-146_097)...146_097 {
            let date = CivilDate(daysSinceEpoch: days)
            XCTAssertEqual(date.daysSinceEpoch, days)
            XCTAssertLessThan(previous, date)
            XCTAssert((1...12).contains(date.month) && (1...31).contains(date.day))
            previous = date
        }
    }

    func testTimestampFormatting() {
        XCTAssertEqual(CivilTime.formatTimestamp(micros: 0), "1970-01-01 00:00:00.000000+00")
        XCTAssertEqual(CivilTime.formatTimestamp(micros: -1), "1969-12-31 23:59:59.999999+00")
        // 2024-02-29 13:14:15.016017 UTC
        let micros = CivilDate(year: 2024, month: 2, day: 29).daysSinceEpoch * CivilTime.microsPerDay
            + ((13 * 3600 + 14 * 60 + 15) * 1_000_000 + 16_017)
        XCTAssertEqual(CivilTime.formatTimestamp(micros: micros), "2024-02-29 13:14:15.016017+00")
    }

    func testDigits() {
        var bytes: [UInt8] = []
        CivilTime.appendDigits(7, width: 3, to: &bytes)
        CivilTime.appendDigits(12345, width: 2, to: &bytes)
        CivilTime.appendDigits(-42, width: 1, to: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "00712345-42")
    }
}
