import Logging
import PipelineCore

/// Connector and task statuses in Connect's `status.storage.topic`
/// (distributed mode), as KafkaStatusBackingStore writes them:
/// `status-connector-NAME` and `status-task-NAME-ID` with
/// `{"state":…,"trace":…,"worker_id":…,"generation":…}`, tombstones once a
/// connector is deleted. Tools that read Connect's status topic see ours.
///
/// Statuses are written in the order they change, off the herder: a
/// status change never waits for Kafka (Connect sends them asynchronously
/// too); a write that fails is logged and superseded by the next one.
public final class KafkaStatusStore: Sendable {
    private let updates: AsyncStream<(key: String, value: JSON?)>.Continuation
    private let writer: Task<Void, Never>
    /// `HOST:PORT` of the REST listener, once bound.
    let workerID = Locked("")

    init(topic: InternalTopic, logger: Logger) {
        let (stream, updates) = AsyncStream<(key: String, value: JSON?)>.makeStream()
        self.updates = updates
        writer = Task {
            for await update in stream {
                do {
                    try await topic.write([(Array(update.key.utf8), update.value?.serialized())])
                } catch {
                    logger.warning("could not write \(update.key) to the status topic \(topic.name): \(error)")
                }
            }
        }
    }

    deinit { updates.finish() }

    /// Records the connector's `status`.
    func publish(_ name: String, _ status: ConnectorStatus, generation: Int) {
        updates.yield(("status-connector-\(name)", ConnectTopicFormats.statusValue(status, workerID: workerID.value, generation: generation)))
    }

    /// Records the `status` of the connector's task `id`.
    func publishTask(_ name: String, _ id: Int, _ status: ConnectorStatus, generation: Int) {
        updates.yield(("status-task-\(name)-\(id)", ConnectTopicFormats.statusValue(status, workerID: workerID.value, generation: generation)))
    }

    /// Removes a deleted connector's statuses, and those of its `tasks` tasks.
    func remove(_ name: String, tasks: Int) {
        updates.yield(("status-connector-\(name)", nil))
        for id in 0..<max(1, tasks) { updates.yield(("status-task-\(name)-\(id)", nil)) }
    }

    /// Waits until every status published so far is written, at most 5 s:
    /// a broker that is away must not hold up a graceful stop (statuses are
    /// rewritten by the next start anyway).
    func finish() async {
        updates.finish()
        let writer = self.writer, written = Locked(false)
        // Awaiting a task's value ignores cancellation: the wait is bounded by polling instead.
        Task {
            await writer.value
            written.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while !written.value && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
