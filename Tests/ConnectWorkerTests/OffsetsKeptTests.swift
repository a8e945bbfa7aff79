@testable import ConnectWorker
import Foundation
import PipelineCore
import PostgresSource
import XCTest

/// A source's offsets are never lost or reset by a pause, a config update
/// or a resume: after all three it goes on from where it was, and the topic
/// holds each row once.
final class OffsetsKeptTests: XCTestCase {
    func testPauseConfigUpdateAndResumeKeepTheSourcesOffsets() async throws {
        let worker = try await InProcessWorker(label: "offsets")
        let table = "KEPT_\(UInt32.random(in: 0...UInt32.max))"
        let postgres = PostgresClient(settings: try ConnectionSettings(url: worker.environment["TRIBUTARY_PG_URL"]!), name: "offsets-test")
        try await postgres.connect()
        _ = try await postgres.query(#"CREATE TABLE "\#(table)" ("index" bigserial PRIMARY KEY, "name" text NOT NULL)"#)
        func insert(_ rows: Int) async throws {
            _ = try await postgres.query(#"INSERT INTO "\#(table)" ("name") SELECT 'user ' || g FROM generate_series(1, \#(rows)) g"#)
        }
        let curl = worker.curl, name = Bodies.unique("src")
        func incrementing() async throws -> Int64? {
            let reply = try await curl("GET", "/connectors/\(name)/offsets")
            guard case .array(let entries)? = reply.json?["offsets"] else { return nil }
            guard case .int(let value)? = entries.first?["offset"]?["incrementing"] else { return nil }
            return value
        }
        func waitForOffset(_ expected: Int64) async throws {
            let deadline = Date().addingTimeInterval(60)
            while try await incrementing() != expected {
                guard Date() < deadline else { throw CurlFailure(description: "offset never reached \(expected): \(try await incrementing() ?? -1)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        do {
            try await insert(100)
            let created = try await curl("PUT", "/connectors/\(name)/config", Bodies.postgresSource(table: table))
            XCTAssertEqual(created.status, 201, "\(created)")
            try await waitForOffset(100)
            let paused = try await curl("PUT", "/connectors/\(name)/pause")
            XCTAssertEqual(paused.status, 202, "\(paused)")
            try await insert(50)  // written while paused
            let updated = try await curl("PUT", "/connectors/\(name)/config", Bodies.postgresSource(table: table).replacingOccurrences(of: #""poll.interval.ms":"1000""#, with: #""poll.interval.ms":"500""#))
            XCTAssertEqual(updated.status, 200, "\(updated)")
            let whilePaused = try await incrementing()
            XCTAssertEqual(whilePaused, 100, "a pause and a config update keep the offset")
            let resumed = try await curl("PUT", "/connectors/\(name)/resume")
            XCTAssertEqual(resumed.status, 202, "\(resumed)")
            try await waitForOffset(150)

            // Each row once in the topic: nothing was sent again from an offset reset.
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: worker.environment["TRIBUTARY_BOOTSTRAP"]!))
            let topic = "P_" + table
            let partitions = try await admin.topics().first { $0.name == topic }?.partitions ?? []
            var records: Int64 = 0
            for partition in partitions {
                let marks = try await admin.watermarks(TopicPartition(topic, partition.partition))
                records += marks.high - marks.low
            }
            XCTAssertEqual(records, 150, "records in \(topic)")
        } catch {
            _ = try? await postgres.query(#"DROP TABLE "\#(table)""#)
            await postgres.close()
            await worker.finish()
            throw error
        }
        _ = try await curl("DELETE", "/connectors/\(name)")
        _ = try await postgres.query(#"DROP TABLE "\#(table)""#)
        await postgres.close()
        await worker.finish()
    }
}
