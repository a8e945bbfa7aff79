import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Open files past the memory budget wait on local disk: the objects that
/// reach (moto) S3 must be the same bytes under the same names.
final class S3SpillTests: XCTestCase {
    func testSpilledFilesUploadTheSameObjectsAsFilesKeptInMemory() async throws {
        for compression in [CompressionType.none, .gzip] {
            let kept = try await objects(compression: compression, memoryBudget: .max)
            let spilled = try await objects(compression: compression, memoryBudget: 0)
            XCTAssertEqual(kept.spilledBytes, 0, "\(compression)")
            XCTAssertGreaterThan(spilled.spilledBytes, 0, "\(compression): the files must have spilled")
            XCTAssertEqual(Set(spilled.objects.keys), Set(kept.objects.keys), "\(compression)")
            XCTAssertEqual(spilled.objects.count, 2 * 4, "\(compression): two objects per partition")
            for (name, body) in kept.objects {
                XCTAssertTrue(spilled.objects[name] == body, "\(compression): \(name) differs once spilled")
            }
        }
    }

    func testSpilledMultipartFilesKeepTheirBytesAcrossParts() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 12)
        config.format = .byteArray(separator: [], fileExtension: ".bin")
        config.partSize = S3Client.minimumPartSize
        config.memoryBudget = 0
        // 12 records of 700,000 bytes: every record spills, and each 5 MiB
        // part is cut from spilled bytes followed by what is in memory.
        let messages = SinkFixtures.randomBytes(count: 12, size: 700_000, seed: 3)
        let object = try await env.writeFirstObject(messages, config: config)
        XCTAssertTrue(object.etag.hasSuffix("-2\""), "uploaded in 2 parts: \(object.etag)")
        XCTAssertTrue(object.body == messages.flatMap { $0.value! }, "the object is the records, in order")
        XCTAssertGreaterThanOrEqual(object.task.statistics.bytesSpilled, 12 * 700_000 - S3Client.minimumPartSize)
    }

    func testAnUnusableSpillDirectoryFailsNamingTheObject() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 1000)
        config.memoryBudget = 0
        config.spillDirectory = "/nonexistent/tributary-spill"
        let client = try env.client()
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        let error = await expectS3Error {
            try await task.put(largeRecords(partition: 0, offsets: 0..<4))
        }
        XCTAssertEqual(error?.kind, .localSpill)
        XCTAssertEqual(error?.isRetriable, false, "a missing directory does not come back by waiting")
        let text = error.map { "\($0)" } ?? ""
        XCTAssertTrue(text.contains("P_USERS+0+0000000000.json"), text)
        XCTAssertTrue(text.contains("/nonexistent/tributary-spill"), text)
        XCTAssertTrue(text.contains("No such file or directory"), text)
    }

    func testSpillFilesLeaveNothingInTheirDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try SpillFile.create(in: directory.path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [], "unlinked at once")
        let first = testBytes(count: 300_000, seed: 9)
        try file.write(first, at: 0)
        try file.write(Array("tail".utf8), at: first.count)
        XCTAssertTrue(try file.read(count: first.count + 4) == first + Array("tail".utf8))
        // A later spill writes over the start again, as after an upload.
        try file.write(Array("new".utf8), at: 0)
        XCTAssertEqual(try file.read(count: 3), Array("new".utf8))
        XCTAssertThrowsError(try file.read(count: first.count + 5), "reading past the end is an error, not zeros")
    }

    // MARK: - Helpers

    /// Records of about 100 KB of letters that gzip shrinks little, so that
    /// a file crosses the spill chunk in a few records, compressed or not.
    private func largeRecords(partition: Int32, offsets: Range<Int64>) -> [KafkaMessage] {
        offsets.map { offset in
            let letters = testBytes(count: 100_000, seed: UInt8(offset) &+ UInt8(partition) &* 16 &+ 1)
            let padding = String(decoding: letters.map { UInt8(ascii: "a") + $0 % 26 }, as: UTF8.self)
            return KafkaMessage(
                topic: "P_USERS", partition: partition, offset: offset, key: nil,
                value: Array("{\"schema\":null,\"payload\":{\"id\":\(offset),\"pad\":\"\(padding)\"}}".utf8))
        }
    }

    /// The objects four partitions of large records make, by name under the topics directory.
    private func objects(
        compression: CompressionType, memoryBudget: Int, test: String = #function
    ) async throws -> (objects: [String: [UInt8]], spilledBytes: Int) {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(test, flushSize: 6)
        config.compression = compression
        config.compressionLevel = 1
        config.memoryBudget = memoryBudget
        let client = try env.client()
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        // Interleaved, so that all four files are open and spilling at once.
        for offsets in [Int64(0)..<3, 3..<6, 6..<9, 9..<12] {
            for partition in Int32(0)..<4 {
                try await task.put(largeRecords(partition: partition, offsets: offsets))
            }
        }
        let prefix = config.naming.topicsDir + "/"
        let found = try await env.objects(under: prefix, client: client)
        let byName = Dictionary(uniqueKeysWithValues: found.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        return (byName, task.statistics.bytesSpilled)
    }
}
