@testable import ConnectWorker
import Foundation
import Logging
import PipelineCore
import TestSupport
import XCTest

/// Distributed mode's stores on the real broker: what a worker saved, stores
/// opened afresh on the same topics read back (as a restarted worker does);
/// a worker whose group session expires (every broker away) learns that it
/// lost the group. A second live worker of a group is refused in ConnectCommandTests.
final class DistributedStoresTests: XCTestCase {
    func testStoresOpenedAgainReadBackConfigsStatesAndOffsetsAndALostSessionIsNoticed() async throws {
        let environment = ProcessEnvironment.current
        guard let bootstrap = environment["TRIBUTARY_BOOTSTRAP"], let control = environment["TRIBUTARY_BROKER_CONTROL"] else {
            throw CurlFailure(description: "TRIBUTARY_BOOTSTRAP / TRIBUTARY_BROKER_CONTROL are not set: source the servers' env file")
        }
        let id = "\(UInt32.random(in: 0...UInt32.max))"
        var storage = WorkerSettings.DistributedStorage(
            groupID: "dist-\(id)", configTopic: "dist-configs-\(id)", offsetTopic: "dist-offsets-\(id)", statusTopic: "dist-status-\(id)")
        // The broker's first join takes 3 s: a session must outlast it.
        storage.sessionTimeoutMilliseconds = 6_000
        storage.heartbeatIntervalMilliseconds = 500
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        for (topic, partitions) in [(storage.configTopic, 1), (storage.offsetTopic, 4), (storage.statusTopic, 2)] {
            try await BrokerControl.createTopic(topic, partitions: partitions, bootstrapServers: bootstrap, control: control)
        }
        let logger = Logger(label: "test.distributed")

        let worker = try await DistributedStores.open(storage, kafka: kafka, logger: logger)
        do {
            try await saveAndReadBack(worker, storage, kafka: kafka, logger: logger)
            // What ConnectService waits for to stop every connector (fail-stop).
            try brokers("down", control: control)
            let bound = Duration.milliseconds(storage.sessionTimeoutMilliseconds + 15_000)
            let noticed = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await worker.lease.waitUntilLost()
                    return !Task.isCancelled
                }
                group.addTask {
                    try? await Task.sleep(for: bound)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            try brokers("up", control: control)
            XCTAssertTrue(noticed, "no loss noticed within \(bound) of every broker going away")
            XCTAssertFalse(worker.lease.isHeld)
        } catch {
            try? brokers("up", control: control)
            await worker.lease.release()
            throw error
        }
        await worker.lease.release()
    }

    /// `down` or `up` for brokers 1-3 through the broker's control FIFO.
    private func brokers(_ command: String, control: String) throws {
        try BrokerControl.send((1...3).map { "\(command) \($0)" }, to: control)
    }

    private func saveAndReadBack(
        _ worker: DistributedStores, _ storage: WorkerSettings.DistributedStorage, kafka: KafkaConfiguration, logger: Logger
    ) async throws {
        let connectors = [
            "src": StoredConnector(config: ["name": "src", "password": "${env:PW}"], target: .running),
            "sink": StoredConnector(config: ["name": "sink"], target: .stopped),
        ]
        let atFirst: [String: StoredConnector] = try await worker.configs.load()
        XCTAssertEqual(atFirst, [:])
        try await worker.configs.save(connectors)
        try await worker.offsets.store(["src/public.USERS": .object([("incrementing", .int(41))])])
        try await worker.offsets.store(["src/public.USERS": .object([("incrementing", .int(42))]), "src/query": .object([("timestamp", .int(7))])])
        try await worker.offsets.alter { $0["src/query"] = nil }

        let restored: [String: StoredConnector] = try await reopened(storage, kafka: kafka, logger: logger).configs.load()
        XCTAssertEqual(restored, connectors)
        let restoredOffsets: [String: JSON] = try await reopened(storage, kafka: kafka, logger: logger).offsets.all()
        XCTAssertEqual(restoredOffsets, ["src/public.USERS": .object([("incrementing", .int(42))])])

        var removed = connectors
        removed["sink"] = nil
        removed["src"]?.target = .paused
        try await worker.configs.save(removed)
        let afterDelete: [String: StoredConnector] = try await reopened(storage, kafka: kafka, logger: logger).configs.load()
        XCTAssertEqual(afterDelete, removed)
    }

    /// The stores a restarted worker opens, without its group lease.
    private func reopened(_ storage: WorkerSettings.DistributedStorage, kafka: KafkaConfiguration, logger: Logger) async throws
        -> (configs: KafkaConfigStore, offsets: KafkaOffsetStore)
    {
        let admin = try KafkaAdmin(configuration: kafka)
        let producer = try KafkaProducer(configuration: kafka)
        let configs = try await InternalTopic.open(
            storage.configTopic, key: "config.storage.topic", partitions: 1, singlePartition: true, configuration: kafka, admin: admin,
            producer: producer)
        let offsets = try await InternalTopic.open(
            storage.offsetTopic, key: "offset.storage.topic", partitions: 4, configuration: kafka, admin: admin, producer: producer)
        return (KafkaConfigStore(topic: configs), try await KafkaOffsetStore.load(offsets, logger: logger))
    }
}
