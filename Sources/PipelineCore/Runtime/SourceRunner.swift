import Logging

/// Runs a ``SourceTask``: polls it, keeps many of its batches in flight on a
/// ``KafkaProducer`` (bounded by ``WindowLimits``), hands acknowledgements
/// back oldest first, and has the task commit only what the broker
/// acknowledged.
///
/// - Nothing is lost: a commit never covers a record whose batch, or any
///   batch before it, is not acknowledged.
/// - A failure (of the task's poll or commit, or of a send) drains the
///   window: batches before the first failed send are still acknowledged,
///   what was acknowledged is committed, and the task hears whether anything
///   past that prefix may be in Kafka (``SourceTask/failed(_:unsettled:)``).
/// - Cancelling `run` is a graceful stop: it polls no more, waits for what is
///   in flight, commits, and returns.
///
/// The runner holds no state between runs: one runner may run many tasks at once.
public final class SourceRunner: Sendable {
    /// How much may await the broker's acknowledgement at once.
    public struct WindowLimits: Sendable, Equatable {
        /// At most this many batches in flight.
        public var batches: Int
        /// At most about this many key and value bytes in flight; one batch always fits.
        public var bytes: Int

        public init(batches: Int, bytes: Int) {
            self.batches = max(1, batches)
            self.bytes = bytes
        }

        /// 64 batches (at Connect's default `batch.max.rows` of 100, 6,400
        /// records) or 8 MiB: enough to keep the producer's queue full.
        public static let standard = WindowLimits(batches: 64, bytes: 8 << 20)
    }

    public let producer: KafkaProducer
    public let limits: WindowLimits
    /// While batches flow, the acknowledged prefix is committed at most this often.
    public let commitInterval: Duration
    /// Counts every acknowledged message, if given.
    public let throughput: Throughput?
    /// Where rows read, acknowledgements, poll times and errors are reported.
    public let metrics: ConnectorMetrics?
    let logger: Logger

    public init(
        producer: KafkaProducer, limits: WindowLimits = .standard, commitInterval: Duration = .seconds(1),
        throughput: Throughput? = nil, metrics: ConnectorMetrics? = nil, logger: Logger = Logger(label: "tributary.source")
    ) {
        self.producer = producer
        self.limits = limits
        self.commitInterval = commitInterval
        self.throughput = throughput
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs `task` until the current task is cancelled (then returns once
    /// what is in flight is acknowledged and committed) or until the task
    /// throws from ``SourceTask/start()`` or ``SourceTask/failed(_:unsettled:)``.
    public func run<Source: SourceTask>(_ task: Source) async throws {
        try await ConnectorMetrics.$current.withValue(metrics) {
            do {
                try await task.start()
                var session = SourceSession(task: task, runner: self)
                try await session.run()
            } catch {
                await task.stop()
                throw error
            }
            await task.stop()
        }
    }
}

/// A send or an acknowledgement failed: what it carried may or may not be in Kafka.
private struct DeliveryFailure: Error {
    var error: any Error
}

/// One ``SourceRunner/run(_:)``: the window and the commit cadence.
private struct SourceSession<Source: SourceTask> {
    let task: Source
    let runner: SourceRunner
    var window: SendWindow<Source.Position>
    let clock = ContinuousClock()
    var lastCommit: ContinuousClock.Instant
    /// Something was acknowledged since the last commit.
    var uncommitted = false
    /// When the oldest acknowledgement not yet committed arrived: the age of the stored offset.
    var oldestUncommitted: ContinuousClock.Instant?

    init(task: Source, runner: SourceRunner) {
        self.task = task
        self.runner = runner
        window = SendWindow(limits: runner.limits)
        lastCommit = clock.now
    }

    mutating func run() async throws {
        while !Task.isCancelled {
            do {
                let started = clock.now
                let poll = try await task.poll()
                runner.metrics?.polled(in: clock.now - started)
                switch poll {
                case .batch(let batch):
                    let bytes = batch.bytes
                    runner.metrics?.read(batch.messages.count, bytes: bytes)
                    try await send(batch, bytes: bytes)
                case .idle(let until):
                    try await settle()
                    try? await clock.sleep(until: until)  // cancelled: the loop ends
                }
            } catch {
                try await recover(from: error)
            }
        }
        // Graceful stop: nothing more is polled; what is in flight is acknowledged and committed.
        do {
            try await settle()
        } catch {
            try await recover(from: error)
        }
    }

    /// Makes room (oldest first), hands `batch` to the producer, and settles
    /// the window when the batch completes a range.
    private mutating func send(_ batch: SourceBatch<Source.Position>, bytes: Int) async throws {
        // Acknowledgements that arrived meanwhile are taken without waiting,
        // so commits follow the broker even while the window is not full.
        while let oldest = window.oldest, oldest.delivery.isSettled { try await acknowledgeOldest() }
        while window.isFull(adding: bytes) { try await acknowledgeOldest() }
        if uncommitted && clock.now - lastCommit >= runner.commitInterval { try await commit() }
        let delivery: PendingDelivery
        do {
            delivery = try await runner.producer.enqueue(batch.messages)
        } catch {
            // Some of its messages may have reached librdkafka before the error.
            throw DeliveryFailure(error: error)
        }
        window.add(.init(position: batch.position, messages: batch.messages.count, bytes: bytes, delivery: delivery))
        task.sent(batch.position, messages: batch.messages.count, inFlight: window.count)
        if batch.completesRange { try await settle() }
    }

    /// Waits for every batch in flight, then commits what was acknowledged.
    private mutating func settle() async throws {
        while !window.isEmpty { try await acknowledgeOldest() }
        if uncommitted { try await commit() }
    }

    private mutating func acknowledgeOldest() async throws {
        let sent = window.removeOldest()
        let reports: [DeliveryReport]
        do {
            reports = try await sent.delivery.reports()
        } catch {
            throw DeliveryFailure(error: error)
        }
        acknowledge(sent, reports)
    }

    private mutating func acknowledge(_ sent: SendWindow<Source.Position>.Batch, _ reports: [DeliveryReport]) {
        task.acknowledged(sent.position, reports: reports)
        runner.throughput?.add(reports.count)
        let now = clock.now
        runner.metrics?.wrote(reports.count, in: now - sent.sentAt)
        uncommitted = true
        if oldestUncommitted == nil { oldestUncommitted = now }
        runner.metrics?.storedOffsetAge(now - oldestUncommitted!)
    }

    private mutating func commit() async throws {
        try await task.commit()
        lastCommit = clock.now
        uncommitted = false
        oldestUncommitted = nil
        runner.metrics?.storedOffsetAge(.zero)
    }

    /// Drains the window after `error`, commits the acknowledged prefix and
    /// tells the task. Batches sent before a failed poll or commit are
    /// acknowledged as usual; once a send failed, nothing after it is: the
    /// producer keeps order per partition, not across the window.
    private mutating func recover(from error: any Error) async throws {
        runner.metrics?.failed()
        var cause = error
        var unsettled = false
        if let failure = error as? DeliveryFailure {
            cause = failure.error
            unsettled = true
        }
        while !window.isEmpty {
            let sent = window.removeOldest()
            // Never leave a send unobserved, even when its outcome no longer counts.
            let reports = try? await sent.delivery.reports()
            if let reports, !unsettled {
                acknowledge(sent, reports)
            } else {
                unsettled = true
            }
        }
        if uncommitted {
            do {
                try await commit()
            } catch {
                runner.logger.warning("could not commit the acknowledged positions after a failure (\(cause)): \(error)")
            }
        }
        do {
            try await task.failed(cause, unsettled: unsettled)
        } catch where Task.isCancelled && error is CancellationError {
            // Stopping anyway: a graceful stop, not a failure.
        }
    }
}
