@testable import ConnectWorker
import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink
import XCTest

/// `tasks.max` above 1: a sink runs that many members of its consumer group
/// (no more than its partitions), each listed with its own state, one
/// restartable alone, and every record still lands exactly once; a JDBC
/// source splits its tables among its tasks.
final class ConnectorTasksTests: XCTestCase {
    func testTwoTasksEachShareFourPartitionsAndWriteEveryRowOnceToMySQLAndS3() async throws {
        let worker = try await InProcessWorker(label: "tasks")
        let curl = worker.curl, name = Bodies.unique("mysql"), topic = Bodies.unique("T").replacingOccurrences(of: "-", with: "_")
        let mysql = MySQLSession(options: try MySQLConnectionOptions(url: worker.environment["TRIBUTARY_MYSQL_URL"]!))
        try mysql.connect()
        defer { mysql.disconnect() }
        func waitForRows(_ expected: Int) async throws {
            let deadline = Date().addingTimeInterval(60)
            while true {
                let counts = try? mysql.query("SELECT COUNT(*), COUNT(DISTINCT `id`) FROM `\(topic)`").first
                if counts == ["\(expected)", "\(expected)"] { return }
                guard Date() < deadline else { throw CurlFailure(description: "rows (all, distinct): \(String(describing: counts)), expected \(expected)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        // The S3 sink's objects of 5 records: each record's id in the objects, in any order.
        let s3 = Bodies.unique("s3")
        let config = try S3SinkConfig(properties: [
            "name": s3, "topics": topic, "s3.region": worker.environment["AWS_REGION"]!, "flush.size": "5",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "s3.bucket.name": worker.environment["TRIBUTARY_S3_BUCKET"]!, "store.url": worker.environment["TRIBUTARY_S3_ENDPOINT"]!,
        ])
        let client = try S3Client(configuration: config.clientConfiguration())
        defer { client.shutdown() }
        func archivedIDs() async throws -> [Int] {
            var ids: [Int] = []
            for object in try await client.listAllObjects(bucket: config.bucket, prefix: config.naming.topicPrefix(topic)).objects {
                let lines = String(decoding: try await client.getObject(bucket: config.bucket, key: object.key), as: UTF8.self).split(separator: "\n")
                ids += lines.compactMap { line in (try? JSON.parse(String(line)))?["id"].flatMap { if case .int(let id) = $0 { return Int(id) } else { return nil } } }
            }
            return ids.sorted()
        }

        try await worker.produce(0..<40, to: topic) { Int32($0 % 4) }
        // Plain inserts without a key: a record written twice would be a second row.
        expectReply(try await curl("PUT", "/connectors/\(name)/config", Bodies.mysqlSink(topic: topic, extra: #","tasks.max":"2""#)), 201)
        expectReply(try await curl("PUT", "/connectors/\(s3)/config", Bodies.s3Sink(topic: topic, extra: #","tasks.max":"2""#)), 201)
        var reply = try await curl("GET", "/connectors/\(name)/status")
        XCTAssertEqual(Self.taskStates(reply), ["0 RUNNING", "1 RUNNING"], "\(reply)")
        reply = try await curl("GET", "/connectors/\(name)")
        XCTAssertEqual(reply.json?["tasks"], .array([0, 1].map { .object([("connector", .string(name)), ("task", .int($0))]) }), "\(reply)")
        reply = try await curl("GET", "/connectors/\(name)/tasks")
        XCTAssertEqual(reply.json.flatMap { if case .array(let tasks) = $0 { return tasks.count } else { return nil } }, 2, "\(reply)")
        try await waitForRows(40)
        try await worker.waitForSinkOffsets(name, [0: 10, 1: 10, 2: 10, 3: 10])
        try await worker.waitForSinkOffsets(s3, [0: 10, 1: 10, 2: 10, 3: 10])
        let firstIDs = try await archivedIDs()
        XCTAssertEqual(firstIDs, Array(0..<40), "every record in one S3 object")

        // One task restarts alone; the group hands the partitions round again, nothing twice.
        expectReply(try await curl("POST", "/connectors/\(name)/tasks/1/restart"), 204)
        expectReply(try await curl("POST", "/connectors/\(name)/tasks/2/restart"), 404, "Task 2")
        try await worker.produce(40..<60, to: topic) { Int32($0 % 4) }
        try await waitForRows(60)
        try await worker.waitForSinkOffsets(name, [0: 15, 1: 15, 2: 15, 3: 15])
        try await worker.waitForSinkOffsets(s3, [0: 15, 1: 15, 2: 15, 3: 15])
        let allIDs = try await archivedIDs()
        XCTAssertEqual(allIDs, Array(0..<60), "every record in one S3 object")
        reply = try await curl("GET", "/connectors/\(s3)/status")
        XCTAssertEqual(Self.taskStates(reply), ["0 RUNNING", "1 RUNNING"], "\(reply)")
        reply = try await curl("GET", "/connectors/\(name)/tasks/1/status")
        XCTAssertEqual(reply.json?["state"], .string("RUNNING"), "\(reply)")

        // A sink never runs more tasks than it has partitions.
        let planned = await SinkPartitions.taskCount(tasksMax: 9, topics: [topic], topicsRegex: nil, context: worker.context)
        XCTAssertEqual(planned, 4)
        expectReply(try await curl("DELETE", "/connectors/\(name)"), 204)
        expectReply(try await curl("DELETE", "/connectors/\(s3)"), 204)
        _ = try? mysql.query("DROP TABLE `\(topic)`")
        await worker.finish()
    }

    func testTwoSourceTasksShareThreeTablesAndSendEveryRowOnce() async throws {
        let worker = try await InProcessWorker(label: "source-tasks")
        let curl = worker.curl, name = Bodies.unique("pg"), stem = "SPLIT_\(UInt32.random(in: 0...UInt32.max))"
        let tables = (1...3).map { "\(stem)_\($0)" }
        let postgres = PostgresClient(settings: try ConnectionSettings(url: worker.environment["TRIBUTARY_PG_URL"]!), name: "tasks-test")
        try await postgres.connect()
        for (index, table) in tables.enumerated() {
            _ = try await postgres.query(#"CREATE TABLE "\#(table)" ("index" bigserial PRIMARY KEY, "name" text NOT NULL)"#)
            _ = try await postgres.query(#"INSERT INTO "\#(table)" ("name") SELECT 'user ' || g FROM generate_series(1, \#(index + 2)) g"#)
        }
        let config = Bodies.postgresSource(table: tables.joined(separator: ",")).replacingOccurrences(of: #""tasks.max":"1""#, with: #""tasks.max":"2""#)
        expectReply(try await curl("PUT", "/connectors/\(name)/config", config), 201)
        let status = try await curl("GET", "/connectors/\(name)/status")
        XCTAssertEqual(Self.taskStates(status), ["0 RUNNING", "1 RUNNING"], "\(status)")

        // Every table's rows once in its topic, and its offset stored, whichever task read it.
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: worker.environment["TRIBUTARY_BOOTSTRAP"]!))
        let expected = Dictionary(uniqueKeysWithValues: tables.enumerated().map { ("public.\($1)", Int64($0 + 2)) })
        func incrementing() async throws -> [String: Int64] {
            guard case .array(let entries)? = try await curl("GET", "/connectors/\(name)/offsets").json?["offsets"] else { return [:] }
            var offsets: [String: Int64] = [:]
            for entry in entries {
                if let table = entry["partition"]?["table"]?.stringValue, case .int(let offset)? = entry["offset"]?["incrementing"] { offsets[table] = offset }
            }
            return offsets
        }
        let deadline = Date().addingTimeInterval(60)
        while try await incrementing() != expected {
            guard Date() < deadline else { throw CurlFailure(description: "offsets: \(try await incrementing()), expected \(expected)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        for (index, table) in tables.enumerated() {
            var records: Int64 = 0
            for partition in try await admin.topics().first(where: { $0.name == "P_" + table })?.partitions ?? [] {
                let marks = try await admin.watermarks(TopicPartition("P_" + table, partition.partition))
                records += marks.high - marks.low
            }
            XCTAssertEqual(records, Int64(index + 2), "records in P_\(table)")
        }
        expectReply(try await curl("DELETE", "/connectors/\(name)"), 204)
        for table in tables { _ = try await postgres.query(#"DROP TABLE "\#(table)""#) }
        await postgres.close()
        await worker.finish()
    }

    func testItemsAreSharedInContiguousGroupsAsConnectDoes() {
        XCTAssertEqual(WorkerTask.share(["a", "b", "c", "d", "e"], among: 2), [["a", "b", "c"], ["d", "e"]])
        XCTAssertEqual(WorkerTask.share(["a", "b"], among: 4), [["a"], ["b"]])
        XCTAssertEqual(WorkerTask.share([Int](), among: 3), [[]])
        XCTAssertEqual(WorkerTask.count(tasksMax: 2, items: 4), 2)
        XCTAssertEqual(WorkerTask.count(tasksMax: 9, items: 4), 4)
        XCTAssertEqual(WorkerTask.count(tasksMax: 3, items: 0), 1)
    }


    /// `"ID STATE"` per task of a status reply.
    private static func taskStates(_ reply: Curl.Reply) -> [String]? {
        guard case .array(let tasks)? = reply.json?["tasks"] else { return nil }
        return tasks.map { task in "\(task["id"].map { $0.text } ?? "?") \(task["state"]?.stringValue ?? "?")" }
    }
}
