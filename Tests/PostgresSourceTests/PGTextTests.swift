import PipelineCore
import XCTest

@testable import PostgresSource

final class PGTextTests: XCTestCase {
    func parse<T>(_ text: String, _ body: (PGText.Bytes) -> T) -> T {
        var bytes = Array(text.utf8) + [0]  // libpq values are NUL-terminated
        return bytes.withUnsafeMutableBufferPointer { body(PGText.Bytes(start: $0.baseAddress, count: $0.count - 1)) }
    }

    func testIntegers() {
        XCTAssertEqual(parse("-9223372036854775808", PGText.int), Int64.min)
        XCTAssertEqual(parse("42", PGText.int), 42)
        XCTAssertNil(parse("9223372036854775808", PGText.int))
        XCTAssertNil(parse("4x", PGText.int))
        XCTAssertNil(parse("", PGText.int))
    }

    func testFloats() {
        XCTAssertEqual(parse("1.5e-3", PGText.double), 0.0015)
        XCTAssertEqual(parse("-Infinity", PGText.double), -.infinity)
        XCTAssertTrue(parse("NaN", PGText.double)!.isNaN)
        XCTAssertNil(parse("1.5x", PGText.double))
    }

    func testDates() {
        XCTAssertEqual(parse("1970-01-01", PGText.date), 0)
        XCTAssertEqual(parse("2000-03-01", PGText.date), 11_017)
        XCTAssertEqual(parse("1969-12-31", PGText.date), -1)
        // 1 BC is astronomical year 0, a leap year: 0000-03-01 is 366 days after 0000-01-01... minus the epoch.
        XCTAssertEqual(parse("0001-03-01 BC", PGText.date), CivilCalendar.days(year: 0, month: 3, day: 1))
        XCTAssertEqual(parse("0044-03-15 BC", PGText.date), CivilCalendar.days(year: -43, month: 3, day: 15))
        XCTAssertEqual(parse("12345-01-01", PGText.date), CivilCalendar.days(year: 12345, month: 1, day: 1))
        XCTAssertNil(parse("infinity", PGText.date))
        XCTAssertNil(parse("2020-13-01", PGText.date))
    }

    func testTimesAndTimestamps() {
        XCTAssertEqual(parse("13:14:15.016017", PGText.timeMicros), ((13 * 60 + 14) * 60 + 15) * 1_000_000 + 16_017)
        XCTAssertEqual(parse("24:00:00", PGText.timeMicros), 86_400_000_000)
        XCTAssertEqual(parse("1970-01-01 00:00:01.5", PGText.timestampMillis), 1_500)
        XCTAssertEqual(parse("1970-01-01 00:00:00+00", PGText.timestampMillis), 0)
        XCTAssertEqual(parse("1970-01-01 02:00:00+02", PGText.timestampMillis), 0)
        XCTAssertEqual(parse("1970-01-01 00:00:00-05:30", PGText.timestampMillis), 19_800_000)
        XCTAssertEqual(parse("1969-12-31 23:59:59.999999+00", PGText.timestampMillis), -1)
        XCTAssertNil(parse("infinity", PGText.timestampMillis))
        // PostgreSQL's extremes overflowed Int64 microseconds (a trap, exit 132); in ms they fit.
        XCTAssertEqual(
            parse("294276-12-31 23:59:59.999999+00", PGText.timestampMillis),
            CivilCalendar.days(year: 294_276, month: 12, day: 31) * 86_400_000 + 86_399_999)
        XCTAssertEqual(
            parse("4714-11-24 00:00:00+00 BC", PGText.timestampMillis),
            CivilCalendar.days(year: -4713, month: 11, day: 24) * 86_400_000)
        // Nine-digit years overflow even milliseconds: nil, never a trap.
        XCTAssertNil(parse("999999999-12-31 23:59:59+00", PGText.timestampMillis))
        XCTAssertEqual(CivilCalendar.floorDivide(-1, 1000).quotient, -1)
        XCTAssertEqual(CivilCalendar.floorDivide(1999, 1000).quotient, 1)
    }

    func testBytea() {
        XCTAssertEqual(parse("\\x00ff7F", PGText.bytea), [0, 255, 127])
        XCTAssertEqual(parse("\\x", PGText.bytea), [])
        XCTAssertNil(parse("\\x0", PGText.bytea))
    }

    func testNumericMapping() {
        func modifier(_ precision: Int32, _ scale: Int32) -> Int32 { (precision << 16 | (scale & 0x7FF)) + 4 }
        XCTAssertEqual(ColumnReader.numeric(modifier(10, 2), .none).0, .decimal(scale: 2))
        XCTAssertEqual(ColumnReader.numeric(modifier(10, 2), .none).1.decimalPrecision, 10)
        XCTAssertEqual(ColumnReader.numeric(modifier(5, 0), .precisionOnly).1, .int32)
        XCTAssertEqual(ColumnReader.numeric(modifier(19, 0), .precisionOnly).0, .decimal(scale: 0))
        XCTAssertEqual(ColumnReader.numeric(modifier(10, 2), .bestFit).1, .float64)
        XCTAssertEqual(ColumnReader.numeric(modifier(30, 2), .bestFit).0, .decimal(scale: 2))
        XCTAssertEqual(ColumnReader.numeric(modifier(30, 2), .bestFitEagerDouble).1, .float64)
        XCTAssertEqual(ColumnReader.numeric(modifier(4, -2), .none).0, .decimal(scale: 0))
        XCTAssertEqual(ColumnReader.numeric(-1, .none).1, .string)
        XCTAssertEqual(ColumnReader.numeric(-1, .bestFit).1, .float64)
    }

    func testTextArray() {
        XCTAssertEqual(PostgresSource.parseTextArray("{}"), [])
        XCTAssertEqual(PostgresSource.parseTextArray("{3/12,\"4/7\"}"), ["3/12", "4/7"])
        XCTAssertEqual(ArrayLiteral.encode(["a\"b", "c\\"]), "{\"a\\\"b\",\"c\\\\\"}")
    }
}
