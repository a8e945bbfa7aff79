import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// The servers the demo talks to, from the environment `scripts/services.sh env` prints.
struct DemoEnvironment: Sendable {
    var postgresURL: String
    var mysqlURL: String
    var s3Endpoint: String
    var s3Bucket: String
    var region: String

    static func fromProcess() throws -> DemoEnvironment {
        let env = ProcessInfo.processInfo.environment
        func need(_ name: String) throws -> String {
            guard let value = env[name], !value.isEmpty else {
                throw PipelineError.config(key: name, reason: "not set; run `. .state/services/env` after `scripts/services.sh up` (scripts/demo.sh does both)")
            }
            return value
        }
        return DemoEnvironment(
            postgresURL: try need("TRIBUTARY_PG_URL"), mysqlURL: try need("TRIBUTARY_MYSQL_URL"),
            s3Endpoint: try need("TRIBUTARY_S3_ENDPOINT"), s3Bucket: try need("TRIBUTARY_S3_BUCKET"),
            region: env["AWS_REGION"] ?? "us-east-1")
    }

    /// True when every server is on this machine, so the demo may reset its own tables.
    var allLocal: Bool {
        [postgresURL, mysqlURL, s3Endpoint].allSatisfy { url in
            ["127.0.0.1", "localhost", "[::1]"].contains { url.contains("@\($0)") || url.contains("//\($0)") }
        }
    }

    func mysql() throws -> MySQLConnection {
        MySQLConnection(options: try MySQLConnectionOptions(url: mysqlURL))
    }

    func s3() throws -> S3Client {
        try S3Client(configuration: S3ClientConfiguration(
            region: region, credentials: try Credentials.fromEnvironment(ProcessEnvironment.current),
            endpoint: s3Endpoint, addressing: .pathStyle))
    }

    func postgres() throws -> PostgresClient {
        PostgresClient(settings: try ConnectionSettings(url: postgresURL), name: "demo")
    }
}
