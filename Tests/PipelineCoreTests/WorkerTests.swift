import Logging
import PipelineCore
import ServiceLifecycle
import XCTest

/// The worker's start order, failure and graceful-stop rules, with
/// connectors written in the test and the embedded cluster for the order.
final class WorkerTests: XCTestCase {
    private struct Boom: Error {}

    /// Events in the order they happened.
    private final class Journal: Sendable {
        private let entries = Locked<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.value }
    }

    private func connector(
        _ name: String, _ role: WorkerConnector.Role, prepare: (@Sendable () async throws -> Void)? = nil,
        run: @escaping @Sendable () async throws -> Void
    ) -> WorkerConnector {
        WorkerConnector(name: name, role: role, throughput: Throughput(name: name), prepare: prepare, run: run)
    }

    /// A source's run that notes it started reading, then ends the test's worker.
    private func readOnceThenEnd(_ journal: Journal) -> @Sendable () async throws -> Void {
        {
            journal.add("source reading")
            throw Boom()
        }
    }

    /// Runs `worker` until ``readOnceThenEnd(_:)`` ends it.
    private func runUntilTheSourceEnds(_ worker: Worker, file: StaticString = #filePath, line: UInt = #line) async throws {
        do {
            try await worker.run()
            XCTFail("the source's error should end the worker", file: file, line: line)
        } catch is Boom {}
    }

    /// Runs until cancelled, then records that it stopped the graceful way.
    private func untilCancelled(_ name: String, _ journal: Journal) -> @Sendable () async throws -> Void {
        {
            journal.add("\(name) started")
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            journal.add("\(name) stopped")
        }
    }

    func testAFailingConnectorStopsTheOthersAndItsErrorIsThrown() async throws {
        let journal = Journal()
        let worker = Worker(
            connectors: [
                connector("steady", .sink, run: untilCancelled("steady", journal)),
                connector("failing", .source) {
                    try await Task.sleep(for: .milliseconds(100))
                    throw Boom()
                },
            ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"))
        do {
            try await worker.run()
            XCTFail("the worker should throw the failing connector's error")
        } catch is Boom {}
        XCTAssertEqual(journal.all, ["steady started", "steady stopped"])
    }

    func testGracefulShutdownStopsEveryConnectorAndReturns() async throws {
        let journal = Journal()
        let worker = Worker(
            connectors: [
                connector("a", .source, run: untilCancelled("a", journal)),
                connector("b", .sink, run: untilCancelled("b", journal)),
            ], kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), progressInterval: .milliseconds(50))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [ServiceGroupConfiguration.ServiceConfiguration(service: worker)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        while journal.all.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        await group.triggerGracefulShutdown()
        try await running.value
        XCTAssertEqual(Set(journal.all), ["a started", "b started", "a stopped", "b stopped"])
    }

    /// On the embedded broker: every source prepares (creates its topics)
    /// before any sink starts, and sources read only once the sinks joined.
    func testOnTheEmbeddedBrokerSinksJoinBetweenTopicCreationAndReading() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        var kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        kafka.embedded = cluster
        let backlog = cluster.backlog
        let journal = Journal()
        let worker = Worker(
            connectors: [
                connector("sink", .sink) {
                    journal.add("sink started")
                    // What a sink's consumer does when it joins its group.
                    let id = backlog.register(group: "connect-sink", topics: ["T"])
                    try await Task.sleep(for: .milliseconds(100))
                    journal.add("sink joined")
                    backlog.assigned(id, [:])
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                    backlog.unregister(id)
                },
                connector(
                    "source", .source,
                    prepare: {
                        try await Task.sleep(for: .milliseconds(100))
                        journal.add("source prepared")
                    },
                    run: readOnceThenEnd(journal)),
            ], kafka: kafka)
        try await runUntilTheSourceEnds(worker)
        XCTAssertEqual(journal.all, ["source prepared", "sink started", "sink joined", "source reading"])
        withExtendedLifetime(cluster) {}
    }

    /// With `tasks.max` a sink joins with one consumer a task: the sources
    /// wait for every task's consumer, not one consumer a sink (they once
    /// read as soon as two consumers had joined: here before task 1 of "b").
    func testOnTheEmbeddedBrokerSourcesWaitForEveryTaskOfEverySink() async throws {
        let cluster = try EmbeddedKafka(brokers: 1)
        var kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        kafka.embedded = cluster
        let backlog = cluster.backlog
        let journal = Journal()
        /// A task whose consumer joins `group` after `delay`.
        @Sendable func member(_ name: String, group: String, after delay: Duration) -> WorkerTask {
            WorkerTask(id: name.hasSuffix("1") ? 1 : 0) {
                let id = backlog.register(group: group, topics: ["T"])
                try await Task.sleep(for: delay)
                journal.add("\(name) joined")
                backlog.assigned(id, [:])
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                backlog.unregister(id)
            }
        }
        let worker = Worker(
            connectors: [
                WorkerConnector(name: "a", role: .sink, throughput: Throughput(name: "a")) {
                    [member("a task 0", group: "connect-a", after: .milliseconds(50))]
                },
                WorkerConnector(name: "b", role: .sink, throughput: Throughput(name: "b")) {
                    [member("b task 0", group: "connect-b", after: .milliseconds(100)),
                     member("b task 1", group: "connect-b", after: .milliseconds(400))]
                },
                connector("source", .source, prepare: {}, run: readOnceThenEnd(journal)),
            ], kafka: kafka)
        try await runUntilTheSourceEnds(worker)
        XCTAssertEqual(journal.all.last, "source reading", "\(journal.all)")
        XCTAssertEqual(Set(journal.all.dropLast()), ["a task 0 joined", "b task 0 joined", "b task 1 joined"])
        withExtendedLifetime(cluster) {}
    }
}
