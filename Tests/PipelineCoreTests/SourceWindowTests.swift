import PipelineCore
import XCTest

@testable import PipelineCore

/// The send window's bounds and order (pure logic).
final class SourceWindowTests: XCTestCase {
    private func batch(_ position: Int, bytes: Int) -> SendWindow<Int>.Batch {
        .init(position: position, messages: 1, bytes: bytes, delivery: PendingDelivery(batch: nil))
    }

    func testBoundedByBatchesAndByBytes() {
        var window = SendWindow<Int>(limits: .init(batches: 3, bytes: 100))
        XCTAssertFalse(window.isFull(adding: 1_000), "an empty window takes any batch")
        window.add(batch(0, bytes: 1_000))
        XCTAssertTrue(window.isFull(adding: 0), "over the bytes")
        _ = window.removeOldest()
        for position in 0..<3 {
            XCTAssertFalse(window.isFull(adding: 10))
            window.add(batch(position, bytes: 10))
        }
        XCTAssertTrue(window.isFull(adding: 10), "three batches")
        _ = window.removeOldest()
        XCTAssertFalse(window.isFull(adding: 80))
        XCTAssertTrue(window.isFull(adding: 81), "20 bytes in flight and 81 more")
    }

    /// Batches leave oldest first, also in a window that never empties.
    func testOldestFirstInAWindowThatNeverEmpties() {
        var window = SendWindow<Int>(limits: .standard)
        var next = 0
        var removed: [Int] = []
        for _ in 0..<5 {
            window.add(batch(next, bytes: 1))
            next += 1
        }
        for _ in 0..<1_000 {
            removed.append(window.removeOldest().position)
            window.add(batch(next, bytes: 1))
            next += 1
            XCTAssertEqual(window.count, 5)
        }
        while !window.isEmpty { removed.append(window.removeOldest().position) }
        XCTAssertEqual(removed, Array(0..<1_005))
    }
}
