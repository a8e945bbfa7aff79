import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Object names, partitioner paths and time formatting, as Confluent's sink makes them.
final class SinkNamingTests: XCTestCase {
    func testObjectKeysMatchConfluent() {
        let naming = ObjectNaming()
        XCTAssertEqual(
            naming.key(topic: "P_USERS", partition: 0, encodedPartition: "partition=0", startOffset: 0, fileExtension: ".json"),
            "topics/P_USERS/partition=0/P_USERS+0+0000000000.json")
        XCTAssertEqual(
            naming.key(topic: "P_USERS", partition: 12, encodedPartition: "partition=12", startOffset: 1_234_567,
                       fileExtension: ".json.gz"),
            "topics/P_USERS/partition=12/P_USERS+12+0001234567.json.gz")
        let custom = ObjectNaming(topicsDir: "", fileDelimiter: "#", offsetPadWidth: 3)
        XCTAssertEqual(
            custom.key(topic: "t", partition: 1, encodedPartition: "a=1/b=x", startOffset: 123_456, fileExtension: ".bin"),
            "t/a=1/b=x/t#1#123456.bin")
        XCTAssertEqual(naming.topicPrefix("P_USERS"), "topics/P_USERS/")
        XCTAssertEqual(
            naming.startOffset(ofKey: "topics/P_USERS/partition=0/P_USERS+0+0000000042.json", topic: "P_USERS", partition: 0), 42)
    }

    func testOffsetPadding() {
        XCTAssertEqual(ObjectNaming.zeroPadded(0, width: 10), "0000000000")
        XCTAssertEqual(ObjectNaming.zeroPadded(42, width: 10), "0000000042")
        XCTAssertEqual(ObjectNaming.zeroPadded(12_345_678_901, width: 10), "12345678901")
        XCTAssertEqual(ObjectNaming.zeroPadded(7, width: 0), "7")
    }

    func testCivilDateTime() {
        // 2024-02-29T23:59:58.123Z, a leap day.
        let time = CivilDateTime(epochMilliseconds: 1_709_251_198_123, offsetSeconds: 0)
        XCTAssertEqual(time, CivilDateTime(epochMilliseconds: 1_709_251_198_123, offsetSeconds: 0))
        XCTAssertEqual([time.year, time.month, time.day, time.hour, time.minute, time.second, time.millisecond, time.dayOfYear],
                       [2024, 2, 29, 23, 59, 58, 123, 60])
        let before1970 = CivilDateTime(epochMilliseconds: -1, offsetSeconds: 0)
        XCTAssertEqual([before1970.year, before1970.month, before1970.day, before1970.hour], [1969, 12, 31, 23])
        let plusTwo = CivilDateTime(epochMilliseconds: 1_709_251_198_123, offsetSeconds: 7200)
        XCTAssertEqual([plusTwo.year, plusTwo.month, plusTwo.day, plusTwo.hour], [2024, 3, 1, 1])
    }

    func testPathFormat() throws {
        let time = CivilDateTime(epochMilliseconds: 1_709_251_198_123, offsetSeconds: 0)
        XCTAssertEqual(
            try PathFormat("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").format(time), "year=2024/month=02/day=29/hour=23")
        XCTAssertEqual(try PathFormat("yyyy-MM-dd'T'HH:mm:ss.SSS").format(time), "2024-02-29T23:59:58.123")
        XCTAssertEqual(try PathFormat("'it''s' yy/D/M/d").format(time), "it's 24/60/2/29")
        XCTAssertThrowsError(try PathFormat("'year'=YYYY/'month'=MMM")) { error in
            XCTAssertEqual((error as? PipelineError).map { "\($0)" }?.contains("path.format"), true)
        }
        XCTAssertThrowsError(try PathFormat("EEE"))
        XCTAssertThrowsError(try PathFormat("'open"))
    }

    func testZoneBucketsAndSchedule() throws {
        let utc = try ZoneRules(identifier: "UTC", key: "timezone")
        let hour: Int64 = 3_600_000
        XCTAssertEqual(utc.bucketStart(1_709_251_198_123, granularity: hour), 1_709_251_198_123 / hour * hour)
        XCTAssertEqual(utc.bucketStart(-1, granularity: hour), -hour)
        // Kolkata is UTC+05:30: a day bucket starts at 18:30 UTC.
        let kolkata = try ZoneRules(identifier: "Asia/Kolkata", key: "timezone")
        let day: Int64 = 86_400_000
        let start = kolkata.bucketStart(1_709_251_198_123, granularity: day)
        XCTAssertEqual(start % day, day - 5 * hour - hour / 2)
        XCTAssertEqual(utc.nextBoundary(after: 1_000, interval: 6000), 6000)
        XCTAssertEqual(utc.nextBoundary(after: 6000, interval: 6000), 12_000)
        // The last slot of a day ends at midnight even if the interval does not divide the day.
        let lastSlot = utc.nextBoundary(after: day - 1, interval: 7 * hour)
        XCTAssertEqual(lastSlot, day)
        XCTAssertThrowsError(try ZoneRules(identifier: "Mars/Olympus", key: "timezone"))
    }

    static let userSchema = Schema.struct(
        "USERS",
        [
            Field("id", .int64), Field("region", .string), Field("active", .boolean), Field("score", .float64),
            Field("created", LogicalType.timestamp()),
            Field("address", .struct("ADDRESS", [Field("country", .string)])),
        ])

    static func user(id: Int64, region: String = "eu", created: Int64 = 1_709_251_198_123, offset: Int64 = 0) -> Record {
        let value: Value = .struct([
            NamedValue("id", .int(id)), NamedValue("region", .string(region)), NamedValue("active", .bool(true)),
            NamedValue("score", .double(1.5)), NamedValue("created", .timestamp(created)),
            NamedValue("address", .struct([NamedValue("country", .string("DE"))])),
        ])
        return Record(
            topic: "P_USERS", partition: 3, offset: offset, key: nil,
            value: SchemaAndValue(schema: userSchema, value: value), timestamp: 1_700_000_000_000)
    }

    func testDefaultPartitioner() throws {
        XCTAssertEqual(try DefaultPartitioner().encodedPartition(for: Self.user(id: 1), now: 0), "partition=3")
    }

    func testFieldPartitioner() throws {
        let partitioner = FieldPartitioner(fieldNames: ["region", "active", "address.country", "id"])
        XCTAssertEqual(
            try partitioner.encodedPartition(for: Self.user(id: 7), now: 0), "region=eu/active=true/address.country=DE/id=7")
        XCTAssertThrowsError(try FieldPartitioner(fieldNames: ["score"]).encodedPartition(for: Self.user(id: 1), now: 0)) {
            XCTAssertTrue("\($0)".contains("P_USERS-3@0"), "\($0)")
        }
        XCTAssertThrowsError(try FieldPartitioner(fieldNames: ["missing"]).encodedPartition(for: Self.user(id: 1), now: 0))
        // Schemaless JSON values arrive as string-keyed maps.
        let schemaless = Record(
            topic: "t", partition: 0, offset: 5, key: nil,
            value: SchemaAndValue(schema: nil, value: .map([MapEntry(.string("region"), .string("us"))])))
        XCTAssertEqual(try FieldPartitioner(fieldNames: ["region"]).encodedPartition(for: schemaless, now: 0), "region=us")
    }

    func testTimeBasedPartitioner() throws {
        let hourly = try TimeBasedPartitioner(
            pathFormat: "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", durationMilliseconds: 3_600_000,
            timeZone: "UTC", extractor: .recordField("created"))
        XCTAssertEqual(try hourly.encodedPartition(for: Self.user(id: 1), now: 0), "year=2024/month=02/day=29/hour=23")
        let daily = try TimeBasedPartitioner(
            pathFormat: "'dt'=YYYY-MM-dd", durationMilliseconds: 86_400_000, timeZone: "Europe/Berlin", extractor: .record)
        // Kafka time 1_700_000_000_000 is 2023-11-14T22:13:20Z, 23:13 in Berlin.
        XCTAssertEqual(try daily.encodedPartition(for: Self.user(id: 1), now: 0), "dt=2023-11-14")
        let wall = try TimeBasedPartitioner(
            pathFormat: "HH", durationMilliseconds: 3_600_000, timeZone: "UTC", extractor: .wallclock)
        XCTAssertEqual(try wall.encodedPartition(for: Self.user(id: 1), now: 5 * 3_600_000 + 1), "05")
        XCTAssertThrowsError(
            try TimeBasedPartitioner(pathFormat: "HH", durationMilliseconds: 0, timeZone: "UTC", extractor: .record))
        let isoField = Record(
            topic: "t", partition: 0, offset: 0, key: nil,
            value: SchemaAndValue(schema: nil, value: .map([MapEntry(.string("at"), .string("2024-05-06T07:08:09.5Z"))])))
        let byString = try TimeBasedPartitioner(
            pathFormat: "YYYY/MM/dd/HH/mm/ss", durationMilliseconds: 1000, timeZone: "UTC", extractor: .recordField("at"))
        XCTAssertEqual(try byString.encodedPartition(for: isoField, now: 0), "2024/05/06/07/08/09")
    }

    func testRecordFormats() throws {
        let record = Self.user(id: 42)
        let json = try RecordFormat.json.encode(record, rawValue: nil)
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"id\":42,\"region\":\"eu\""), text)
        XCTAssertTrue(text.hasSuffix("}\n"), text)
        XCTAssertFalse(text.contains("schema"), text)
        let raw = RecordFormat.byteArray(separator: [10], fileExtension: ".bin")
        XCTAssertEqual(try raw.encode(record, rawValue: [1, 2]), [1, 2, 10])
        XCTAssertEqual(raw.fileExtension + CompressionType.gzip.fileExtension, ".bin.gz")
    }
}
