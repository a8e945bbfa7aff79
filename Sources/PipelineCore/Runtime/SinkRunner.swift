import Logging

/// Runs a ``SinkTask``: one consumer-group member, its dead-letter queue,
/// the decode-ahead pipeline, offset commits, rebalances and shutdown, the
/// same for every sink.
///
/// - Batches: while batch N is put, batch N+1 is polled and decoded
///   (``SinkIntake/decode(_:)``), bounded by ``SinkRunnerSettings/maxRecords``
///   and ``SinkRunnerSettings/maxBytes``.
/// - Commits: after each put, what ``SinkTask/preCommit()`` returns, per
///   ``SinkRunnerSettings/commits``; tasks that must commit at a precise
///   point do so through ``SinkTaskContext/commit(_:)``.
/// - Rebalances: revoked partitions are closed in order, before the first
///   batch polled after the revoke, and records of theirs polled before it
///   are dropped. A commit refused by a rebalance (``GroupRebalance``)
///   closes every partition the task holds and drops messages until the
///   revoke arrives; then they resume at their committed offsets. This is
///   for the eager protocol (every partition revoked); under a cooperative
///   one, retained partitions would never be revoked, so a task that
///   commits synchronously needs an eager strategy.
/// - Shutdown: cancelling the calling task finishes the batch in hand,
///   commits it, closes and returns; a cancelled wait (backoff, reconnect)
///   returns without error. What was polled but not put is read again.
public final class SinkRunner: Sendable {
    public let settings: SinkRunnerSettings
    /// Counts every record put.
    public let throughput: Throughput?
    private let logger: Logger

    public init(settings: SinkRunnerSettings, throughput: Throughput? = nil, logger: Logger = Logger(label: "tributary.sink")) {
        self.settings = settings
        self.throughput = throughput
        self.logger = logger
    }

    /// Runs `task` until the calling task is cancelled (then returns) or a
    /// failure the task does not absorb (then throws it, after closing).
    public func run<T: SinkTask>(_ task: T) async throws {
        let metrics = ConnectorMetrics(connector: settings.connectorName)
        try await ConnectorMetrics.$current.withValue(metrics) { try await run(task, metrics: metrics) }
    }

    private func run<T: SinkTask>(_ task: T, metrics: ConnectorMetrics) async throws {
        var consumer: KafkaConsumer?
        var producer: KafkaProducer?
        var pipeline: SinkPipeline<T.Intake>?
        var failure: (any Error)?
        do {
            try await task.start()
            let intake = task.intake
            let revocations = SinkRevocations()
            let hooks = RebalanceHooks(
                assigned: { partitions in try intake.open(partitions) },
                revoked: { partitions in
                    metrics.rebalanced()
                    revocations.record(partitions)
                })
            let active = try KafkaConsumer(
                configuration: await settings.consumer.forGroupMember(), groupID: settings.groupID,
                topics: settings.topics, hooks: hooks, logger: logger)
            consumer = active
            var deadLetters: DeadLetterQueue?
            if let target = settings.deadLetters {
                let dlqProducer = try KafkaProducer(configuration: target.kafka, logger: logger)
                producer = dlqProducer
                deadLetters = DeadLetterQueue(
                    topic: target.topic, connectorName: target.connectorName, producer: dlqProducer,
                    maxRecordBytes: DeadLetterQueue.maxRecordBytes(for: target.kafka))
            }
            pipeline = SinkPipeline(
                consumer: active, intake: intake, revocations: revocations, maxRecords: settings.maxRecords,
                maxBytes: settings.maxBytes, timeout: settings.pollTimeout, fill: settings.fillTime)
            let context = SinkTaskContext(consumer: active, deadLetters: deadLetters, metrics: metrics, logger: logger)
            try await consume(task, consumer: active, pipeline: &pipeline!, context: context)
        } catch {
            // Once cancelled, whatever the wait in progress threw (backoff,
            // reconnect, upload retry) is the graceful stop: what was not
            // committed is read again.
            if !Task.isCancelled {
                failure = error
                metrics.failed()
            }
        }
        await pipeline?.finish()
        await task.stop()
        await consumer?.close()
        await producer?.close()
        if let failure { throw failure }
    }

    private func consume<T: SinkTask>(
        _ task: T, consumer: KafkaConsumer, pipeline: inout SinkPipeline<T.Intake>, context: SinkTaskContext
    ) async throws {
        /// Partitions put since they were last closed: what a refused commit drops.
        var held: Set<TopicPartition> = []
        var awaitingRebalance = false
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let ready = try await pipeline.next()
            context.metrics.read(ready.messages.count, bytes: ready.messages.reduce(0) { $0 + $1.byteCount })
            context.metrics.lag(consumer.lag)
            if !ready.revoked.isEmpty {
                awaitingRebalance = false
                held.subtract(ready.revoked)
                await task.close(ready.revoked)
            }
            // Dropped while a rebalance is pending: the revoke rewinds to the committed offsets.
            guard !awaitingRebalance else { continue }
            do {
                if let batch = ready.batch {
                    for message in ready.messages { held.insert(message.topicPartition) }
                    let started = clock.now
                    try await task.put(batch, context: context)
                    throughput?.add(ready.messages.count)
                    context.metrics.wrote(ready.messages.count, in: clock.now - started)
                    try await commit(task.preCommit(), consumer: consumer, context: context)
                }
                try await task.tick(context: context)
                try await commit(task.preCommit(), consumer: consumer, context: context)
            } catch let refused as GroupRebalance {
                logger.info("\(refused); dropping what is buffered until the partitions are revoked")
                await task.close(held.sorted())
                held = []
                awaitingRebalance = true
            }
        }
    }

    private func commit(_ offsets: [TopicPartition: Int64], consumer: KafkaConsumer, context: SinkTaskContext) async throws {
        guard !offsets.isEmpty else { return }
        switch settings.commits {
        case .synchronous:
            try await context.commit(offsets)
        case .advisory:
            do {
                try await consumer.commit(offsets, waitForBroker: false)
            } catch {
                logger.warning("Kafka offset commit failed; the destination holds the offsets that count", metadata: ["error": "\(error)"])
            }
        }
    }
}
