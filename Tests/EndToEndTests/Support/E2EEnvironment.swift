import Foundation
import PipelineCore

/// The servers and the `tributary` executable the end-to-end tests drive.
///
/// Everything comes from the environment that `scripts/services.sh up`
/// writes (sourced by `scripts/test.sh`). A missing variable or executable
/// is a test failure, never a skip: a CI run without its servers must go
/// red instead of passing while testing nothing.
struct E2EEnvironment: Sendable {
    let postgresURL: String
    let mysqlURL: String
    let bootstrapServers: String
    /// The embedded broker's command FIFO (`scripts/services.sh`), for
    /// creating topics: the mock broker has no CreateTopics API.
    let brokerControl: String
    let s3Endpoint: String
    let s3Bucket: String
    let s3Region: String
    let tributary: String
    /// The package root, for the seed's connector configs.
    let repository: URL

    /// Every variable the seed configs reference or the worker needs. The
    /// AWS keys are read by the S3 sink itself (the seed config names none).
    static let variables = [
        "TRIBUTARY_PG_URL", "TRIBUTARY_MYSQL_URL", "TRIBUTARY_BOOTSTRAP", "TRIBUTARY_BROKER_CONTROL", "TRIBUTARY_S3_ENDPOINT",
        "TRIBUTARY_S3_BUCKET", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    ]

    static func load() throws -> E2EEnvironment {
        let environment = ProcessEnvironment.current
        let missing = variables.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw E2EFailure(
                "end-to-end tests need \(missing.joined(separator: ", ")); start the servers with "
                    + "`scripts/services.sh up` and source the env file it writes (or run `scripts/test.sh`)")
        }
        return E2EEnvironment(
            postgresURL: environment["TRIBUTARY_PG_URL"]!, mysqlURL: environment["TRIBUTARY_MYSQL_URL"]!,
            bootstrapServers: environment["TRIBUTARY_BOOTSTRAP"]!, brokerControl: environment["TRIBUTARY_BROKER_CONTROL"]!,
            s3Endpoint: environment["TRIBUTARY_S3_ENDPOINT"]!,
            s3Bucket: environment["TRIBUTARY_S3_BUCKET"]!, s3Region: environment["AWS_REGION"]!,
            tributary: try locateTributary(), repository: repositoryRoot())
    }

    /// `tributary` sits next to the test bundle (`.build/<triple>/debug/`):
    /// `swift build --build-tests` builds both into the same directory. The
    /// bundle is found through /proc/self/exe because `CommandLine.arguments[0]`
    /// may be relative to a directory `swift test` has since left.
    static func locateTributary() throws -> String {
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("tributary").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw E2EFailure("no tributary executable at \(path); build it with `swift build --build-tests` first")
        }
        return path
    }

    /// Tests/EndToEndTests/Support/<this file> → the package root.
    static func repositoryRoot(file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }
}

/// A failure with a message meant for whoever reads the test log.
struct E2EFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
