import CoreMetrics
import Foundation

/// A connector's figures, reported through swift-metrics: whichever backend
/// the program bootstraps (`tributary connect` serves them as Prometheus
/// text on `/metrics`; a library user picks their own) sees them, and
/// without one they cost next to nothing. Every figure is counted per
/// batch, never per record.
///
/// Metrics with the same name and labels are one series in the backend, so
/// making a second `ConnectorMetrics` for a connector (a restart, the
/// dead-letter queue) adds to the same counters.
///
/// | name | kind | labels |
/// |---|---|---|
/// | `tributary_connector_records_read_total` | counter | connector, task |
/// | `tributary_connector_records_written_total` | counter | connector, task |
/// | `tributary_connector_bytes_read_total` | counter | connector, task |
/// | `tributary_connector_batch_duration_seconds` | timer (histogram) | connector, task |
/// | `tributary_connector_errors_total` | counter | connector, task |
/// | `tributary_connector_dead_letter_records_total` | counter | connector, task |
/// | `tributary_connector_retries_total` | counter | connector, task |
/// | `tributary_connector_rebalances_total` | counter | connector, task |
/// | `tributary_sink_partition_lag` | gauge | connector, topic, partition |
/// | `tributary_source_poll_duration_seconds` | timer (histogram) | connector, task |
/// | `tributary_source_commit_fence_waits_total` | counter | connector, task |
/// | `tributary_source_stored_offset_age_seconds` | gauge | connector, task |
///
/// Records read are what a sink polled or a source read from its database;
/// written, what a sink's destination took or the broker acknowledged to a
/// source. A batch's duration is a sink's put, or a source batch's time from
/// send to acknowledgement.
public final class ConnectorMetrics: Sendable {
    /// The connector's name (`name` in its config).
    public let connector: String
    /// The task's number; tributary runs one task per connector.
    public let task: Int
    let recordsRead: Counter
    let recordsWritten: Counter
    let bytesRead: Counter
    let batchDuration: CoreMetrics.Timer
    let errors: Counter
    let deadLetters: Counter
    let retries: Counter
    let rebalances: Counter
    let pollDuration: CoreMetrics.Timer
    let fenceWaits: Counter
    let storedOffsetAge: Gauge
    /// One gauge per partition, made when the partition is first seen.
    private let lagGauges = Locked<[TopicPartition: Gauge]>([:])
    /// A CDC source's slot lag, made at its first report (other connectors have no slot).
    private let slotLagGauge = Locked<Gauge?>(nil)

    /// The metrics of `connector`'s task `task`.
    public init(connector: String, task: Int = 0) {
        self.connector = connector
        self.task = task
        let labels = [("connector", connector), ("task", String(task))]
        recordsRead = Counter(label: "tributary_connector_records_read_total", dimensions: labels)
        recordsWritten = Counter(label: "tributary_connector_records_written_total", dimensions: labels)
        bytesRead = Counter(label: "tributary_connector_bytes_read_total", dimensions: labels)
        batchDuration = CoreMetrics.Timer(label: "tributary_connector_batch_duration_seconds", dimensions: labels, preferredDisplayUnit: .seconds)
        errors = Counter(label: "tributary_connector_errors_total", dimensions: labels)
        deadLetters = Counter(label: "tributary_connector_dead_letter_records_total", dimensions: labels)
        retries = Counter(label: "tributary_connector_retries_total", dimensions: labels)
        rebalances = Counter(label: "tributary_connector_rebalances_total", dimensions: labels)
        pollDuration = CoreMetrics.Timer(label: "tributary_source_poll_duration_seconds", dimensions: labels, preferredDisplayUnit: .seconds)
        fenceWaits = Counter(label: "tributary_source_commit_fence_waits_total", dimensions: labels)
        storedOffsetAge = Gauge(label: "tributary_source_stored_offset_age_seconds", dimensions: labels)
    }

    /// The metrics of the connector whose runner runs the current task (a
    /// task-local set by ``SourceRunner`` and ``SinkRunner``); code deep in
    /// a stage, such as ``RetryLoop``, reports through it.
    @TaskLocal public static var current: ConnectorMetrics?

    /// Bytes of WAL a CDC source's replication slot holds back (the server's
    /// position minus the slot's confirmed one).
    public func replicationSlotLag(bytes: Int64) {
        let labels = [("connector", connector), ("task", String(task))]
        let gauge = slotLagGauge.withLock { made -> Gauge in
            if let made { return made }
            let gauge = Gauge(label: "tributary_source_replication_slot_lag_bytes", dimensions: labels)
            made = gauge
            return gauge
        }
        gauge.record(Double(bytes))
    }

    /// `count` records (`bytes` bytes of keys and values) read.
    public func read(_ count: Int, bytes: Int = 0) {
        guard count > 0 else { return }
        recordsRead.increment(by: count)
        if bytes > 0 { bytesRead.increment(by: bytes) }
    }

    /// `count` records written, in a batch that took `duration`.
    public func wrote(_ count: Int, in duration: Duration? = nil) {
        if count > 0 { recordsWritten.increment(by: count) }
        if let duration { batchDuration.recordNanoseconds(duration.nanoseconds) }
    }

    /// `count` records failed (skipped or sent to the dead-letter topic), or the task failed.
    public func failed(_ count: Int = 1) {
        if count > 0 { errors.increment(by: count) }
    }

    /// `count` records sent to the dead-letter topic.
    public func deadLettered(_ count: Int) {
        if count > 0 { deadLetters.increment(by: count) }
    }

    /// One more attempt after a retriable failure.
    public func retried() { retries.increment() }

    /// The group assigned or revoked partitions.
    public func rebalanced() { rebalances.increment() }

    /// A source's poll (a query) took `duration`.
    public func polled(in duration: Duration) { pollDuration.recordNanoseconds(duration.nanoseconds) }

    /// A source's poll waited for older write transactions to end (the commit fence).
    public func waitedForFence() { fenceWaits.increment() }

    /// How long ago the source last stored its offsets.
    public func storedOffsetAge(_ age: Duration) { storedOffsetAge.record(age.seconds) }

    /// How far a sink's position in each partition is behind the partition's end.
    public func lag(_ lags: [TopicPartition: Int64]) {
        guard !lags.isEmpty else { return }
        let connector = self.connector
        let gauges = lagGauges.withLock { known -> [(Gauge, Int64)] in
            lags.map { partition, lag in
                let gauge = known[partition] ?? {
                    let made = Gauge(
                        label: "tributary_sink_partition_lag",
                        dimensions: [("connector", connector), ("topic", partition.topic), ("partition", String(partition.partition))])
                    known[partition] = made
                    return made
                }()
                return (gauge, lag)
            }
        }
        for (gauge, lag) in gauges { gauge.record(lag) }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whole milliseconds (truncated), clamped to `Int`.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds < 0 ? .min : .max) : Int(clamping: milliseconds + attoseconds / 1_000_000_000_000_000)
    }

    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
