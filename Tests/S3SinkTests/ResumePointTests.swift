import PipelineCore
import XCTest

@testable import S3Sink

/// Where an S3 sink may be moved to resume (KIP-875) without archiving a
/// record twice or replacing an object with other content.
final class ResumePointTests: XCTestCase {
    private let tp = TopicPartition("P_USERS", 0)
    /// Objects of 5 records at 0 and 5 (committed: 10), and one of another partition.
    private let keys = [
        "topics/P_USERS/partition=0/P_USERS+0+0000000005.json", "topics/P_USERS/partition=0/P_USERS+0+0000000000.json",
        "topics/P_USERS/partition=1/P_USERS+1+0000000000.json", "topics/P_USERS/partition=0/notes.txt",
    ]

    private func point(_ extra: [String: String] = [:]) throws -> ResumePoint {
        var properties = S3SinkConfigTests.seed
        properties["rotate.schedule.interval.ms"] = nil
        return ResumePoint(config: try S3SinkConfig(properties: properties.merging(extra) { $1 }, environment: [:]))
    }

    func testObjectsOfOnePartitionInOffsetOrder() throws {
        let objects = try point().objects(of: tp, in: keys)
        XCTAssertEqual(objects.map(\.start), [0, 5])
        XCTAssertEqual(objects.map(\.key).last, keys[0])
    }

    func testForwardFromTheCommittedOffsetIsAlwaysSafe() throws {
        for extra in [[:], ["partitioner.class": "io.confluent.connect.storage.partitioner.FieldPartitioner", "partition.field.name": "id"]] {
            let point = try point(extra)
            let objects = point.objects(of: tp, in: keys)
            XCTAssertNil(point.problem(tp, at: 10, committed: 10, objects: objects))
            XCTAssertNil(point.problem(tp, at: 42, committed: 10, objects: objects))
        }
    }

    func testBackToWhereAnObjectStartsRebuildsItOnlyWithTheDefaultPartitionerAndFlushSizeRotation() throws {
        let point = try point()
        let objects = point.objects(of: tp, in: keys)
        XCTAssertNil(point.problem(tp, at: 5, committed: 10, objects: objects))
        XCTAssertNil(point.problem(tp, at: 0, committed: 10, objects: objects), "a reset to the log start rebuilds every object")
        for extra in [["rotate.schedule.interval.ms": "6000"], ["rotate.interval.ms": "6000"]] {
            let timed = try self.point(extra)
            let problem = try XCTUnwrap(timed.problem(tp, at: 5, committed: 10, objects: objects))
            XCTAssertTrue(problem.contains("rebuilt objects differ"), problem)
        }
    }

    func testInsideAnObjectOrWithoutAKnownEndIsRefusedNamingTheObjects() throws {
        let point = try point()
        let objects = point.objects(of: tp, in: keys)
        let inside = try XCTUnwrap(point.problem(tp, at: 7, committed: 10, objects: objects))
        XCTAssertTrue(inside.contains("P_USERS+0+0000000005.json") && inside.contains("(0, 5)"), inside)
        let before = try XCTUnwrap(point.problem(tp, at: 3, committed: 10, objects: objects))
        XCTAssertTrue(before.contains("P_USERS+0+0000000005.json"), before)
        XCTAssertNotNil(point.problem(tp, at: 12, committed: nil, objects: objects), "without a commit, where the last object ends is unknown")
        XCTAssertNil(point.problem(tp, at: 12, committed: nil, objects: []))
    }
}
