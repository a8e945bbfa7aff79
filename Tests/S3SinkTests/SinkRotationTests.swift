import Foundation
import XCTest

@testable import S3Sink

/// The rotation rules alone, with made-up clocks.
final class SinkRotationTests: XCTestCase {
    let utc = try! ZoneRules(identifier: "UTC", key: "timezone")

    func testFlushSize() {
        var state = RotationState(policy: RotationPolicy(flushSize: 3), zone: utc, now: 0)
        for index in 0..<3 {
            XCTAssertFalse(state.isFull)
            XCTAssertFalse(state.shouldRotate(before: "p", recordTime: Int64(index), timeBased: false, now: 10_000_000))
            state.recordWritten(encodedPartition: "p", recordTime: Int64(index), now: 0)
        }
        XCTAssertTrue(state.isFull)
        XCTAssertTrue(
            state.shouldRotate(before: "p", recordTime: 3, timeBased: false, now: 0),
            "files still full (their upload threw) rotate before the next record")
        state.reset(now: 0)
        XCTAssertFalse(state.isFull)
        XCTAssertEqual(state.recordCount, 0)
    }

    func testRotateIntervalUsesRecordTime() {
        var state = RotationState(
            policy: RotationPolicy(flushSize: 1000, rotateIntervalMilliseconds: 100), zone: utc, now: 0)
        XCTAssertFalse(state.shouldRotate(before: "p", recordTime: 1000, timeBased: false, now: 0), "nothing open yet")
        state.recordWritten(encodedPartition: "p", recordTime: 1000, now: 0)
        XCTAssertFalse(state.shouldRotate(before: "p", recordTime: 1099, timeBased: false, now: 999_999))
        state.recordWritten(encodedPartition: "p", recordTime: 1099, now: 0)
        XCTAssertTrue(state.shouldRotate(before: "p", recordTime: 1100, timeBased: false, now: 0))
        // A time-based partitioner rotates when the record moves to another time partition.
        XCTAssertTrue(state.shouldRotate(before: "q", recordTime: 1001, timeBased: true, now: 0))
        XCTAssertFalse(state.shouldRotate(before: "q", recordTime: 1001, timeBased: false, now: 0))
    }

    func testScheduledRotationFollowsTheWallClock() {
        var state = RotationState(
            policy: RotationPolicy(flushSize: 1000, scheduleIntervalMilliseconds: 6000), zone: utc, now: 1000)
        XCTAssertEqual(state.nextScheduledRotation, 6000)
        XCTAssertFalse(state.isScheduleDue(now: 7000), "nothing to rotate")
        state.recordWritten(encodedPartition: "p", recordTime: nil, now: 2000)
        XCTAssertFalse(state.isScheduleDue(now: 5999))
        XCTAssertTrue(state.isScheduleDue(now: 6000))
        XCTAssertTrue(state.shouldRotate(before: "p", recordTime: nil, timeBased: false, now: 6000))
        state.reset(now: 6001)
        XCTAssertEqual(state.nextScheduledRotation, 12_000)
        // Idle past the boundary: the first record gets a fresh slot.
        state.recordWritten(encodedPartition: "p", recordTime: nil, now: 20_000)
        XCTAssertEqual(state.nextScheduledRotation, 24_000)
        XCTAssertFalse(state.isScheduleDue(now: 20_001))
    }
}
