import ConnectWorker
import Logging
import PipelineCore
import PostgresSource
import ServiceLifecycle

/// The demo's connectors on one worker in this process, as `tributary run`
/// hosts them, until the demo has seen what it waits for.
struct DemoPipeline {
    /// What the worker stopped with, if it stopped on its own.
    let failure = Locked<String?>(nil)
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(_ connectors: [ConnectorSpec], kafka: KafkaConfiguration, offsetFile: String) throws {
        let context = WorkerContext(
            kafka: kafka, producerProperties: [:], consumerProperties: ["session.timeout.ms": "6000"],
            sharedOffsetStore: FileOffsetStore(path: offsetFile), logger: Logger(label: "tributary.demo"))
        let instances = try connectors.map { try ConnectorFactory.make($0, context: context) }
        let group = makeServiceGroup(instances, kafka: kafka, logger: context.logger, progressInterval: 0)
        let failure = self.failure
        self.group = group
        task = Task {
            do { try await group.run() } catch { failure.withLock { $0 = "\(error)" } }
        }
    }

    /// `wait`'s result once the pipeline has stopped gracefully; the
    /// pipeline is stopped when `wait` throws too.
    func stop<T>(after wait: () async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await wait()) } catch { result = .failure(error) }
        await group.triggerGracefulShutdown()
        await task.value
        return try result.get()
    }
}
