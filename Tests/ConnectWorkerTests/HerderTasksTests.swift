@testable import ConnectWorker
import Foundation
import Logging
import PipelineCore
import XCTest

/// The herder's tasks on their own, with connectors built here (no servers):
/// a failed task is FAILED alone, the connector runs on, and `onlyFailed`
/// restarts just that task, built afresh.
final class HerderTasksTests: XCTestCase {
    func testAFailedTaskRestartsAloneWhileTheOthersRunOn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herder-tasks-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let builds = Locked(0), secondTaskRuns = Locked(0)
        let herder = ConnectHerder(store: FileConfigStore(path: directory.appendingPathComponent("configs.json").path), logger: Logger(label: "test")) { spec in
            builds.withLock { $0 += 1 }
            return WorkerConnector(name: spec.name, role: .sink, throughput: Throughput(name: spec.name)) {
                [
                    WorkerTask(id: 0) { try? await Task.sleep(for: .seconds(3600)) },
                    WorkerTask(id: 1) {
                        // The first run fails; a restarted one runs until stopped.
                        if secondTaskRuns.withLock({ $0 += 1; return $0 }) == 1 { throw PipelineError.other("task 1 broke") }
                        try? await Task.sleep(for: .seconds(3600))
                    },
                ]
            }
        }
        try await herder.start()
        let config = [
            "connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": "T", "s3.region": "us-east-1",
            "s3.bucket.name": "b", "flush.size": "5", "format.class": "io.confluent.connect.s3.format.json.JsonFormat", "tasks.max": "2",
        ]
        try await herder.put("c", config: config)
        try await waitFor(herder, "c") { $0.tasks.map(\.status.state) == [.running, .failed] }
        var info = try await herder.info("c")
        XCTAssertEqual(info.status.state, .running, "one failed task leaves the connector running")
        XCTAssertEqual(info.tasks[1].status.trace, "task 1 broke")

        let scheduled = try await herder.restart("c", onlyFailed: true)
        XCTAssertEqual(scheduled, .tasks([1]))
        try await waitFor(herder, "c") { $0.tasks.map(\.status.state) == [.running, .running] }
        info = try await herder.info("c")
        XCTAssertEqual(secondTaskRuns.value, 2)
        XCTAssertEqual(builds.value, 2, "the restarted task was built afresh")
        let runs = await herder.runs()
        XCTAssertEqual(runs, 2)
        XCTAssertEqual(herder.liveRuns.value, 2, "task 0 kept its run; task 1 has one again")
        // Fewer tasks than tasks.max (here: what the builder plans) are noted in the status.
        try await herder.put("c", config: config.merging(["tasks.max": "3"]) { $1 })
        info = try await herder.info("c")
        XCTAssertEqual(info.notice, "tasks.max=3: 2 task(s), no more than there are partitions to share")
        await herder.shutdown()
        XCTAssertEqual(herder.liveRuns.value, 0)
    }

    private func waitFor(_ herder: ConnectHerder, _ name: String, _ condition: (ConnectorInfo) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition(try await herder.info(name)) {
            guard Date() < deadline else { throw CurlFailure(description: "never: \(try await herder.info(name))") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
