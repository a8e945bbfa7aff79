import Foundation
import PipelineCore
import S3Sink
import XCTest

/// The S3 server the integration tests use, from the environment that
/// `scripts/services.sh up` writes (`.state/services/env`, sourced by
/// `scripts/test.sh`).
///
/// Missing variables are a test failure, not a skip: a CI run without its
/// S3 server must go red instead of passing while testing nothing.
struct S3TestEnvironment {
    var endpoint: String
    var bucket: String
    var region: String
    var credentials: Credentials

    static let variables = [
        "TRIBUTARY_S3_ENDPOINT", "TRIBUTARY_S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
    ]

    struct Missing: Error, CustomStringConvertible {
        var names: [String]
        var description: String {
            "S3 integration tests need \(names.joined(separator: ", ")); "
                + "start the servers with `scripts/services.sh up` and run `scripts/test.sh`"
        }
    }

    static func load() throws -> S3TestEnvironment {
        let environment = ProcessInfo.processInfo.environment
        let missing = variables.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else { throw Missing(names: missing) }
        return S3TestEnvironment(
            endpoint: environment["TRIBUTARY_S3_ENDPOINT"]!, bucket: environment["TRIBUTARY_S3_BUCKET"]!,
            region: environment["AWS_REGION"]!, credentials: try Credentials.fromEnvironment(environment))
    }

    /// Fast retries: tests exercise the retry path, not the patience.
    static let quickRetry = RetryPolicy(maxAttempts: 8, initialDelay: .milliseconds(5), maxDelay: .milliseconds(50))

    func client(
        endpoint: String? = nil, credentials: Credentials? = nil, retry: RetryPolicy = quickRetry,
        addressing: S3ClientConfiguration.Addressing = .automatic
    ) throws -> S3Client {
        try S3Client(
            configuration: S3ClientConfiguration(
                region: region, credentials: credentials ?? self.credentials, endpoint: endpoint ?? self.endpoint,
                addressing: addressing, retry: retry, requestTimeout: .seconds(60), stallTimeout: .seconds(10)))
    }

    /// A key prefix no other test or run uses.
    static func uniquePrefix(_ name: String = #function) -> String {
        let test = name.replacingOccurrences(of: "()", with: "")
        return "tests/\(test)-\(UUID().uuidString.prefix(8))/"
    }
}

/// Deterministic bytes for upload checks.
func testBytes(count: Int, seed: UInt8 = 1) -> [UInt8] {
    var state = UInt32(seed) &* 2_654_435_761 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

/// Runs `body` and returns the ``S3Error`` it throws, failing if it throws none.
func expectS3Error(
    _ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line
) async -> S3Error? {
    do {
        try await body()
        XCTFail("expected an S3Error", file: file, line: line)
    } catch let error as S3Error {
        return error
    } catch {
        XCTFail("expected an S3Error, got \(error)", file: file, line: line)
    }
    return nil
}
