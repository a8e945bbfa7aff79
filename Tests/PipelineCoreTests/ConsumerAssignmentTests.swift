import XCTest

@testable import PipelineCore

/// The consumer protocol's member assignment, as a group's description
/// carries it (the console's group page lists it).
final class ConsumerAssignmentTests: XCTestCase {
    /// version 1; topics [("orders", [0, 2]), ("P_USERS", [5])]; 4 bytes of user data.
    func testTopicsAndPartitionsAreReadBigEndian() {
        var bytes: [UInt8] = [0, 1, 0, 0, 0, 2]
        bytes += [0, 6] + Array("orders".utf8) + [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2]
        bytes += [0, 7] + Array("P_USERS".utf8) + [0, 0, 0, 1, 0, 0, 0, 5]
        bytes += [0, 0, 0, 4, 1, 2, 3, 4]
        let partitions = bytes.withUnsafeBytes { ConsumerAssignment.partitions($0) }
        XCTAssertEqual(partitions, [TopicPartition("P_USERS", 5), TopicPartition("orders", 0), TopicPartition("orders", 2)])
    }

    /// Truncated or foreign bytes give what could be read, never a crash.
    func testTruncatedBytesGiveWhatCouldBeRead() {
        let bytes: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 6] + Array("orders".utf8) + [0, 0, 0, 3, 0, 0, 0, 9, 0, 0]
        XCTAssertEqual(bytes.withUnsafeBytes { ConsumerAssignment.partitions($0) }, [TopicPartition("orders", 9)])
        XCTAssertEqual([UInt8]().withUnsafeBytes { ConsumerAssignment.partitions($0) }, [])
        XCTAssertEqual([0, 1, 0xFF, 0xFF, 0xFF, 0xFF].withUnsafeBytes { ConsumerAssignment.partitions($0) }, [], "a negative count")
    }
}
