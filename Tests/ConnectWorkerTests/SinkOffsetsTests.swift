@testable import ConnectWorker
import Foundation
import MySQLSink
import PipelineCore
import S3Sink
import XCTest

/// KIP-875 on sinks: `PATCH` and `DELETE …/offsets` on a stopped sink change
/// where it resumes — MySQL's own offsets for the JDBC sink, the group's
/// commits for the S3 sink — and GET reports exactly that.
final class SinkOffsetsTests: XCTestCase {
    /// Rows 0…9 in MySQL (upsert by id); every row is then marked in MySQL,
    /// so a row that comes back unmarked was delivered again.
    func testMySQLSinkResumesWhereItsOffsetsWereAlteredOrReset() async throws {
        let worker = try await InProcessWorker(label: "mysql-offsets")
        let curl = worker.curl, name = Bodies.unique("mysql"), topic = Bodies.unique("T").replacingOccurrences(of: "-", with: "_")
        let mysql = MySQLSession(options: try MySQLConnectionOptions(url: worker.environment["TRIBUTARY_MYSQL_URL"]!))
        try mysql.connect()
        defer { mysql.disconnect() }
        func unmarked() throws -> [Int] {
            try mysql.query("SELECT `id` FROM `\(topic)` WHERE `name` <> 'marked' ORDER BY `id`").compactMap { $0[0].flatMap { Int($0) } }
        }
        func waitFor(_ ids: [Int]) async throws {
            let deadline = Date().addingTimeInterval(60)
            while (try? unmarked()) != ids {
                guard Date() < deadline else { throw CurlFailure(description: "unmarked rows \(String(describing: try? unmarked())), expected \(ids)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        func markAll() throws { _ = try mysql.query("UPDATE `\(topic)` SET `name` = 'marked'") }

        try await worker.produce(0..<10, to: topic)
        let config = Bodies.mysqlSink(topic: topic, extra: #","insert.mode":"upsert","pk.mode":"record_value","pk.fields":"id""#)
        expectReply(try await curl("PUT", "/connectors/\(name)/config", config), 201)
        try await waitFor(Array(0..<10))
        try await worker.waitForSinkOffsets(name, [0: 10])
        try markAll()

        // Only a stopped connector's offsets change, as in Connect.
        let patch = Self.patch(topic, partition: 0, offset: "6")
        expectReply(try await curl("PATCH", "/connectors/\(name)/offsets", patch), 400, "must be in the STOPPED state")
        expectReply(try await curl("PUT", "/connectors/\(name)/stop"), 204)
        // Bad bodies get Connect's messages, naming the fault.
        for (body, fault) in [
            (#"{"offsets":[]}"#, "Partitions / offsets need to be provided"),
            (#"{"offsets":[{"offset":{"kafka_offset":1}}]}"#, "cannot be null or missing"),
            (#"{"offsets":[{"partition":{"kafka_topic":"\#(topic)"},"offset":{"kafka_offset":1}}]}"#, "must contain the keys 'kafka_topic' and 'kafka_partition'"),
            (Self.patch(topic, partition: "\"x\"", offset: "1"), "'x'. Partition values for sink connectors need to be integers"),
            (#"{"offsets":[{"partition":{"kafka_topic":"\#(topic)","kafka_partition":0},"offset":{"position":1}}]}"#, "should either be null or contain the key 'kafka_offset'"),
            (Self.patch(topic, partition: 0, offset: "\"soon\""), "'soon'. Offset values for sink connectors need to be integers"),
            (Self.patch(topic, partition: 0, offset: "-3"), "must not be negative"),
            (Self.patch(topic, partition: 0, offset: "99"), "\(topic)-0 is outside its log, which holds offsets 0 to 10"),
            (Self.patch(topic, partition: 9, offset: "0"), "\(topic)-9 is not a partition this connector reads"),
            (Self.patch("OTHER", partition: 0, offset: "0"), "OTHER-0 is not a partition this connector reads"),
        ] {
            expectReply(try await curl("PATCH", "/connectors/\(name)/offsets", body), 400, fault)
        }
        expectReply(try await curl("PATCH", "/connectors/\(name)/offsets", patch), 200, "have been altered successfully")
        try await worker.waitForSinkOffsets(name, [0: 6])
        expectReply(try await curl("PUT", "/connectors/\(name)/resume"), 202)
        try await waitFor([6, 7, 8, 9])
        try await worker.waitForSinkOffsets(name, [0: 10])
        let count = try mysql.query("SELECT COUNT(*) FROM `\(topic)`").first?[0]
        XCTAssertEqual(count, "10", "upsert re-applied the re-delivered rows in place")

        // A reset starts every partition per auto.offset.reset (earliest: the log start).
        try markAll()
        expectReply(try await curl("PUT", "/connectors/\(name)/stop"), 204)
        expectReply(try await curl("DELETE", "/connectors/\(name)/offsets"), 200, "have been reset successfully")
        try await worker.waitForSinkOffsets(name, [0: 0, 1: 0, 2: 0, 3: 0])
        expectReply(try await curl("PUT", "/connectors/\(name)/resume"), 202)
        try await waitFor(Array(0..<10))
        expectReply(try await curl("DELETE", "/connectors/\(name)"), 204)
        _ = try? mysql.query("DROP TABLE `\(topic)`")
        await worker.finish()
    }

    /// Objects of 5 records: `+0` and `+5` uploaded, 10 committed. Going back
    /// to 5 rebuilds `+5` the same; going back to 7 would duplicate records
    /// and is refused (``ResumePointTests`` has the other cases).
    func testS3SinkAltersOnlyWhereReDeliveryRebuildsTheSameObjects() async throws {
        let worker = try await InProcessWorker(label: "s3-offsets")
        let curl = worker.curl, name = Bodies.unique("s3"), topic = Bodies.unique("T")
        let config = try S3SinkConfig(properties: [
            "name": name, "topics": topic, "s3.region": worker.environment["AWS_REGION"]!,
            "s3.bucket.name": worker.environment["TRIBUTARY_S3_BUCKET"]!, "store.url": worker.environment["TRIBUTARY_S3_ENDPOINT"]!,
            "flush.size": "5", "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        ])
        let client = try S3Client(configuration: config.clientConfiguration())
        defer { client.shutdown() }
        func objects() async throws -> [String: [UInt8]] {
            var contents: [String: [UInt8]] = [:]
            for object in try await client.listAllObjects(bucket: config.bucket, prefix: config.naming.topicPrefix(topic)).objects {
                contents[String(object.key.split(separator: "/").last!)] = try await client.getObject(bucket: config.bucket, key: object.key)
            }
            return contents
        }

        try await worker.produce(0..<12, to: topic)
        expectReply(try await curl("PUT", "/connectors/\(name)/config", Bodies.s3Sink(topic: topic, extra: #","value.converter.schemas.enable":"false""#)), 201)
        try await worker.waitForSinkOffsets(name, [0: 10])
        let archived = try await objects()
        XCTAssertEqual(archived.keys.sorted(), ["\(topic)+0+0000000000.json", "\(topic)+0+0000000005.json"])

        expectReply(try await curl("PUT", "/connectors/\(name)/stop"), 204)
        expectReply(try await 
            curl("PATCH", "/connectors/\(name)/offsets", Self.patch(topic, partition: 0, offset: "7")), 400,
            "\(topic)+0+0000000005.json")
        expectReply(try await curl("PATCH", "/connectors/\(name)/offsets", Self.patch(topic, partition: 0, offset: "5")), 200, "altered")
        try await worker.waitForSinkOffsets(name, [0: 5])
        try await worker.produce(12..<15, to: topic)
        expectReply(try await curl("PUT", "/connectors/\(name)/resume"), 202)
        try await worker.waitForSinkOffsets(name, [0: 15])
        let now = try await objects()
        XCTAssertEqual(now.keys.sorted(), archived.keys.sorted() + ["\(topic)+0+0000000010.json"])
        XCTAssertEqual(now["\(topic)+0+0000000005.json"], archived["\(topic)+0+0000000005.json"], "rebuilt with the same content")
        expectReply(try await curl("DELETE", "/connectors/\(name)"), 204)
        await worker.finish()
    }

    // MARK: - Helpers

    private static func patch(_ topic: String, partition: Any, offset: String) -> String {
        #"{"offsets":[{"partition":{"kafka_topic":"\#(topic)","kafka_partition":\#(partition)},"offset":{"kafka_offset":\#(offset)}}]}"#
    }
}
