import Foundation
import PipelineCore
import PostgresSource
import XCTest

/// One offset file shared by many sources (`offset.storage.file.filename`,
/// and every source of `tributary connect`): concurrent stores must all
/// land. Before the read-merge-write became one job on the file's thread,
/// two stores at once each merged into the same old contents and the
/// second write dropped the first one's key.
final class SharedOffsetFileTests: XCTestCase {
    func testConcurrentStoresOfDifferentSourcesAllLand() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shared-offsets-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = FileOffsetStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for source in 0..<20 {
                group.addTask {
                    for step in 1...5 { try await store.store(["s\(source)/public.T": .object([("incrementing", .int(Int64(step)))])]) }
                }
            }
            try await group.waitForAll()
        }
        let reloaded = try await FileOffsetStore(path: path).all()
        XCTAssertEqual(reloaded.count, 20, "keys lost: \(Set((0..<20).map { "s\($0)/public.T" }).subtracting(reloaded.keys).sorted())")
        XCTAssertTrue(reloaded.values.allSatisfy { $0 == .object([("incrementing", .int(5))]) })
    }

    func testAlterRemovesAndKeepsDurably() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("alter-offsets-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = FileOffsetStore(path: path)
        try await store.store(["a/public.T": .int(1), "b/public.T": .int(2)])
        try await store.alter { $0 = $0.filter { !$0.key.hasPrefix("a/") } }
        let reloaded = try await FileOffsetStore(path: path).all()
        XCTAssertEqual(reloaded, ["b/public.T": .int(2)])
    }
}
