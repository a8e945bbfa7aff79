import Foundation
import XCTest

@testable import PipelineCore

/// The worker thread is where C handles are used, so it is also where
/// owners free them (``BlockingWorker/shutdown(after:)`` in their deinit).
final class BlockingWorkerTests: XCTestCase {
    func testCleanupRunsOnTheWorkerThreadAfterTheQueuedJobs() {
        let worker = BlockingWorker(name: "cleanup-test")
        let events = Locked<[(String, pthread_t)]>([])
        let done = expectation(description: "cleanup ran")
        worker.enqueue { events.withLock { $0.append(("job", pthread_self())) } }
        worker.shutdown {
            events.withLock { $0.append(("cleanup", pthread_self())) }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        let seen = events.value
        XCTAssertEqual(seen.map(\.0), ["job", "cleanup"])
        XCTAssertEqual(seen.count, 2)
        if seen.count == 2 {
            XCTAssertTrue(pthread_equal(seen[0].1, seen[1].1) != 0, "cleanup ran on the worker's thread")
            XCTAssertTrue(pthread_equal(seen[1].1, pthread_self()) == 0, "not on the caller's")
        }
        XCTAssertFalse(worker.enqueue {}, "a shut-down worker takes no more jobs")
    }
}
