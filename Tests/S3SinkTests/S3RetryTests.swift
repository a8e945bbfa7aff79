import Foundation
import PipelineCore
import S3Sink
import XCTest

/// Retries through the fault proxy: every injected fault is survived and
/// everything written arrives intact.
final class S3RetryTests: XCTestCase {
    func testRetriesDeliverEverythingThroughFaults() async throws {
        let env = try S3TestEnvironment.load()
        // Spread over the first puts; `nil` lets a request through.
        let plan: [FaultProxy.Fault?] = [
            .serviceUnavailable, nil, .slowDown, .drop, nil, .reset, nil, .internalError, nil,
            .slowDown, .drop, .reset, nil,
        ]
        let faults = plan.compactMap { $0 }.count
        let proxy = try FaultProxy(upstream: env.endpoint, plan: plan)
        defer { proxy.stop() }
        let client = try env.client(endpoint: proxy.url)
        let prefix = S3TestEnvironment.uniquePrefix()

        var expected: [String: [UInt8]] = [:]
        for index in 0..<10 {
            let key = prefix + "small-\(index) (x+y).json"
            let body = testBytes(count: 100 + index, seed: UInt8(index))
            try await client.putObject(bucket: env.bucket, key: key, body: body)
            expected[key] = body
        }
        XCTAssertEqual(proxy.counts.faults, faults, "every planned fault was injected")
        XCTAssertEqual(proxy.counts.requests, faults + 10)
        XCTAssertEqual(client.statistics.retries, faults, "each fault cost exactly one retry")

        let listed = try await client.listAllObjects(bucket: env.bucket, prefix: prefix)
        XCTAssertEqual(Set(listed.objects.map(\.key)), Set(expected.keys))
        for (key, body) in expected {
            let read = try await client.getObject(bucket: env.bucket, key: key)
            XCTAssertEqual(read, body, key)
        }
    }

    func testMultipartAndReadsSurviveFaults() async throws {
        let env = try S3TestEnvironment.load()
        // Faults land on CreateMultipartUpload, the parts, Complete and the
        // read; `nil` lets a request through.
        let plan: [FaultProxy.Fault?] = [
            .slowDown, nil,  // CreateMultipartUpload
            .reset, nil,  // part 1
            .serviceUnavailable, .drop, nil,  // part 2
            nil,  // part 3
            .internalError, nil,  // CompleteMultipartUpload
            .truncate, nil,  // GetObject
        ]
        let proxy = try FaultProxy(upstream: env.endpoint, plan: plan)
        defer { proxy.stop() }
        let client = try env.client(endpoint: proxy.url)
        let key = S3TestEnvironment.uniquePrefix() + "multipart.bin"
        let body = testBytes(count: 2 * S3Client.minimumPartSize + 777, seed: 9)

        try await client.upload(bucket: env.bucket, key: key, body: body, partSize: S3Client.minimumPartSize)
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertTrue(read == body, "object read back differs (\(read.count) of \(body.count) bytes)")
        let faults = plan.compactMap { $0 }.count
        XCTAssertEqual(proxy.counts.faults, faults)
        XCTAssertEqual(client.statistics.retries, faults)
    }

    func testStalledAnswerTimesOutAndIsRetried() async throws {
        let env = try S3TestEnvironment.load()
        let proxy = try FaultProxy(upstream: env.endpoint, plan: [.stall(seconds: 3)])
        defer { proxy.stop() }
        let client = try S3Client(
            configuration: S3ClientConfiguration(
                region: env.region, credentials: env.credentials, endpoint: proxy.url,
                retry: S3TestEnvironment.quickRetry, requestTimeout: .seconds(30), stallTimeout: .seconds(1)))
        let key = S3TestEnvironment.uniquePrefix() + "after-stall"
        try await client.putObject(bucket: env.bucket, key: key, body: [4, 2])
        XCTAssertEqual(client.statistics.retries, 1)
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(read, [4, 2])
    }

    func testGivesUpAfterMaxAttemptsWithTheLastError() async throws {
        let env = try S3TestEnvironment.load()
        let proxy = try FaultProxy(upstream: env.endpoint, plan: Array(repeating: .slowDown, count: 3))
        defer { proxy.stop() }
        let client = try env.client(
            endpoint: proxy.url,
            retry: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(1), maxDelay: .milliseconds(5)))
        let key = S3TestEnvironment.uniquePrefix() + "throttled"
        let error = await expectS3Error { try await client.putObject(bucket: env.bucket, key: key, body: [1]) }
        XCTAssertEqual(error?.code, "SlowDown")
        XCTAssertEqual(error?.httpStatus, 503)
        XCTAssertEqual(error?.attempts, 3)
        XCTAssertEqual(error?.isRetriable, true)
        // The proxy has run out of faults: the same client now succeeds.
        try await client.putObject(bucket: env.bucket, key: key, body: [1])
    }
}
