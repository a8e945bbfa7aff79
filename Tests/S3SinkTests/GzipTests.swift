import Foundation
import XCTest

@testable import S3Sink

/// The gzip writer's output, checked by the system's `gzip -d`.
final class GzipTests: XCTestCase {
    func testRoundTripsThroughSystemGzip() throws {
        let lines = (0..<3000).map { "{\"id\":\($0),\"name\":\"user \($0 % 97)\",\"email\":\"u\($0)@example.com\"}\n" }
        let writer = GzipWriter()
        var compressed: [UInt8] = []
        var plain: [UInt8] = []
        for line in lines {
            let bytes = Array(line.utf8)
            plain += bytes
            compressed += writer.append(bytes)
        }
        compressed += writer.finish()
        XCTAssertEqual(try gunzip(compressed), plain)
        XCTAssertLessThan(compressed.count, plain.count / 3, "JSON lines should compress well")
    }

    func testEdgeCases() throws {
        XCTAssertEqual(try gunzip(GzipWriter.compress([])), [])
        XCTAssertEqual(try gunzip(GzipWriter.compress([7])), [7])
        let random = testBytes(count: 100_000, seed: 3)
        XCTAssertEqual(try gunzip(GzipWriter.compress(random)), random)
        let runs = [UInt8](repeating: 65, count: 70_000) + Array("abcabcabcabc".utf8)
        XCTAssertEqual(try gunzip(GzipWriter.compress(runs)), runs)
    }

    func testCompressionLevelIsHonoured() throws {
        let data = Array((0..<5000).map { "{\"id\":\($0),\"name\":\"user \($0 % 97)\"}\n" }.joined().utf8)
        let fast = GzipWriter.compress(data, level: 1), small = GzipWriter.compress(data, level: 9), stored = GzipWriter.compress(data, level: 0)
        for compressed in [fast, small, stored] { XCTAssertEqual(try gunzip(compressed), data) }
        XCTAssertLessThan(small.count, fast.count)
        XCTAssertGreaterThan(stored.count, data.count)
        let config = try S3SinkConfig(properties: [
            "name": "n", "topics": "t", "s3.bucket.name": "b", "s3.region": "r", "flush.size": "1",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat", "s3.compression.level": "9",
        ])
        XCTAssertEqual(config.compressionLevel, 9)
    }

    func testOutputIsDeterministic() {
        let data = Array(String(repeating: "{\"a\":1}\n", count: 500).utf8)
        XCTAssertEqual(GzipWriter.compress(data), GzipWriter.compress(data))
    }
}

struct GunzipFailed: Error {}

/// Decompresses with the system's `gzip -dc`, an independent inflater.
func gunzip(_ data: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    // Write from another thread: a full output pipe would block gzip.
    let writer = Thread {
        input.fileHandleForWriting.write(Data(data))
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let result = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw GunzipFailed() }
    return Array(result)
}
