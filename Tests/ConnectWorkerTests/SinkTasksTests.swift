@testable import ConnectWorker
import Foundation
import MySQLSink
import PipelineCore
import XCTest

/// `tasks.max` above 1: a sink runs that many members of its consumer group
/// (no more than its partitions), each listed with its own state, one
/// restartable alone, and every record still lands exactly once.
final class SinkTasksTests: XCTestCase {
    func testTwoTasksShareFourPartitionsAndWriteEveryRowOnce() async throws {
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

        try await worker.produce(0..<40, to: topic) { Int32($0 % 4) }
        // Plain inserts without a key: a record written twice would be a second row.
        expectReply(try await curl("PUT", "/connectors/\(name)/config", Bodies.mysqlSink(topic: topic, extra: #","tasks.max":"2""#)), 201)
        var reply = try await curl("GET", "/connectors/\(name)/status")
        XCTAssertEqual(Self.taskStates(reply), ["0 RUNNING", "1 RUNNING"], "\(reply)")
        reply = try await curl("GET", "/connectors/\(name)")
        XCTAssertEqual(reply.json?["tasks"], .array([0, 1].map { .object([("connector", .string(name)), ("task", .int($0))]) }), "\(reply)")
        reply = try await curl("GET", "/connectors/\(name)/tasks")
        XCTAssertEqual(reply.json.flatMap { if case .array(let tasks) = $0 { return tasks.count } else { return nil } }, 2, "\(reply)")
        try await waitForRows(40)
        try await worker.waitForSinkOffsets(name, [0: 10, 1: 10, 2: 10, 3: 10])

        // One task restarts alone; the group hands the partitions round again, nothing twice.
        expectReply(try await curl("POST", "/connectors/\(name)/tasks/1/restart"), 204)
        expectReply(try await curl("POST", "/connectors/\(name)/tasks/2/restart"), 404, "Task 2")
        try await worker.produce(40..<60, to: topic) { Int32($0 % 4) }
        try await waitForRows(60)
        try await worker.waitForSinkOffsets(name, [0: 15, 1: 15, 2: 15, 3: 15])
        reply = try await curl("GET", "/connectors/\(name)/tasks/1/status")
        XCTAssertEqual(reply.json?["state"], .string("RUNNING"), "\(reply)")

        // A sink never runs more tasks than it has partitions.
        expectReply(try await curl("PUT", "/connectors/\(name)/config", Bodies.mysqlSink(topic: topic, extra: #","tasks.max":"9""#)), 200)
        reply = try await curl("GET", "/connectors/\(name)/status")
        XCTAssertEqual(Self.taskStates(reply), (0..<4).map { "\($0) RUNNING" }, "\(reply)")
        XCTAssertEqual(reply.json?["connector"]?["msg"], .string("tasks.max=9: 4 task(s), no more than there are partitions to share"), "\(reply)")
        expectReply(try await curl("DELETE", "/connectors/\(name)"), 204)
        _ = try? mysql.query("DROP TABLE `\(topic)`")
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
