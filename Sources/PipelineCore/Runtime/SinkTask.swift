/// A sink's destination logic, run by ``SinkRunner``; shaped like Kafka
/// Connect's `SinkTask`.
///
/// The runner calls ``start()``, then for each batch ``put(_:context:)``
/// followed by ``preCommit()`` (whose offsets it commits), ``tick(context:)``
/// after every poll, ``close(_:)`` when partitions are revoked, and
/// ``stop()`` once at the end. All of these run one at a time on the
/// runner's task, so the task's own state needs no locking.
///
/// What runs elsewhere lives in ``intake``, which is `Sendable`: opening
/// assigned partitions (on the consumer's thread) and decoding the next
/// batch while this one is put.
public protocol SinkTask: AnyObject {
    associatedtype Intake: SinkIntake
    /// The task's `Sendable` half; the runner asks for it once, before it joins the group.
    var intake: Intake { get }
    /// Before the consumer joins the group: connect, create what ``SinkIntake/open(_:)`` reads.
    func start() async throws
    /// Writes a decoded batch (records in consumption order, any partitions).
    /// Commits it needs to make synchronously go through `context`.
    func put(_ batch: Intake.Batch, context: SinkTaskContext) async throws
    /// The offsets (next offset to read) whose records the destination now
    /// holds durably and that were not returned before; the runner commits them.
    func preCommit() -> [TopicPartition: Int64]
    /// Called after every poll, also when it returned nothing: time-based work (rotation).
    func tick(context: SinkTaskContext) async throws
    /// The partitions were revoked (or the runner drops everything buffered
    /// after a refused commit): forget what is buffered for them; their
    /// records are consumed again from the committed offsets.
    func close(_ partitions: [TopicPartition]) async
    /// The runner is done (stopped or failed): release connections.
    func stop() async
}

extension SinkTask {
    public func start() async throws {}
    public func tick(context: SinkTaskContext) async throws {}
}

/// The part of a ``SinkTask`` that runs outside the runner's task.
public protocol SinkIntake: Sendable {
    /// What ``decode(_:)`` makes of a batch of messages.
    associatedtype Batch: Sendable
    /// Partitions were assigned: the offsets to resume from (for example
    /// stored in the destination with the data); the rest resume at the
    /// group's committed offsets. Runs on the consumer's own thread inside
    /// the rebalance callback, so blocking calls are fine; a retriable error
    /// is retried there until it succeeds.
    func open(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64]
    /// CPU work (and, with a registry converter, fetching the batch's
    /// schemas once): runs on another task while the previous batch is put.
    /// Per-record problems belong in the batch (the task decides at put
    /// time, in order); a throw stops the runner.
    func decode(_ messages: [KafkaMessage]) async throws -> Batch
}

extension SinkIntake {
    public func open(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
}
