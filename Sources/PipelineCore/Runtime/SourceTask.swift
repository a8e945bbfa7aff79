/// A source connector's work, driven by a ``SourceRunner``: shaped like Kafka
/// Connect's `SourceTask`, with the sending, the acknowledgement order and
/// the commit cadence left to the runner.
///
/// The runner calls, from one task and never concurrently:
/// 1. ``start()`` once;
/// 2. ``poll()`` for the next batch, sends it without waiting for the broker
///    (many batches are in flight), and calls ``sent(_:messages:inFlight:)``;
/// 3. ``acknowledged(_:reports:)`` for each batch the broker acknowledged,
///    strictly in the order the batches were polled: everything a task has
///    been told is acknowledged forms a prefix of what it polled;
/// 4. ``commit()`` to store the positions of that prefix: at most every
///    ``SourceRunner/commitInterval`` while batches flow, once a batch that
///    ``SourceBatch/completesRange`` and everything before it are
///    acknowledged, before waiting after ``SourcePoll/idle(until:)``, and on stop;
/// 5. ``failed(_:unsettled:)`` when polling, sending or committing failed;
/// 6. ``stop()`` once, however the run ended.
///
/// A task is used by one run at a time; it need not be `Sendable`.
public protocol SourceTask: AnyObject {
    /// What a batch covers, as the task defines it (a row range, a file
    /// offset…): handed back with its acknowledgement.
    associatedtype Position

    /// Prepares the task (connect, discover what to read). An error ends the run.
    func start() async throws

    /// The next records to send, or ``SourcePoll/idle(until:)`` when there
    /// are none for now. May take as long as reading the next records takes,
    /// but should not wait for new data: the runner does the waiting (and
    /// stops promptly when cancelled).
    func poll() async throws -> SourcePoll<Position>

    /// `position`'s batch, of `messages` messages, was handed to the producer;
    /// `inFlight` batches (this one included) now await acknowledgement.
    func sent(_ position: Position, messages: Int, inFlight: Int)

    /// The broker acknowledged `position`'s batch and every batch polled
    /// before it; `reports` says where each of its messages went, in order.
    func acknowledged(_ position: Position, reports: [DeliveryReport])

    /// Stores the positions of everything acknowledged so far, durably,
    /// before returning. Never covers a batch not yet acknowledged.
    func commit() async throws

    /// Polling, sending or committing failed with `error`. Everything
    /// acknowledged so far has been committed (if the commit itself did not
    /// fail). With `unsettled`, batches past the acknowledged prefix were
    /// handed to the producer and may or may not be in Kafka; the task must
    /// not assume either (resending them may duplicate them, skipping them may
    /// lose them). Without it, nothing past the prefix was sent.
    ///
    /// Return to go on polling (the task decides when, e.g. after a backoff
    /// with ``RetryLoop``); throw to end the run with that error. When the
    /// run is being cancelled, it stops either way.
    func failed(_ error: any Error, unsettled: Bool) async throws

    /// The run ended (stopped, or failed): release what ``start()`` acquired.
    func stop() async
}

extension SourceTask {
    public func start() async throws {}
    public func sent(_ position: Position, messages: Int, inFlight: Int) {}
    public func stop() async {}
}

/// What ``SourceTask/poll()`` found.
public enum SourcePoll<Position> {
    /// Records to send.
    case batch(SourceBatch<Position>)
    /// Nothing to send before `until`: the runner waits for everything in
    /// flight, commits, and polls again then (or stops, when cancelled meanwhile).
    case idle(until: ContinuousClock.Instant)
}

/// Records a ``SourceTask`` polled, with the position they reach.
public struct SourceBatch<Position> {
    /// The messages to produce, in order; may be empty (a batch whose records
    /// need no sending still advances the position once acknowledged).
    public var messages: [KafkaMessage]
    public var position: Position
    /// The last batch of a unit of work (say, a table range): once it and
    /// everything before it are acknowledged, the runner commits, and only
    /// then polls again.
    public var completesRange: Bool

    public init(messages: [KafkaMessage], position: Position, completesRange: Bool = false) {
        self.messages = messages
        self.position = position
        self.completesRange = completesRange
    }

    /// Key and value bytes, what the runner's send window bounds
    /// (``SourceRunner/WindowLimits``).
    public var bytes: Int {
        messages.reduce(0) { $0 + $1.byteCount }
    }
}

extension SourcePoll: Sendable where Position: Sendable {}
extension SourceBatch: Sendable where Position: Sendable {}
