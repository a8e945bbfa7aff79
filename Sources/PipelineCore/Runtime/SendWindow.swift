/// The batches a ``SourceRunner`` has sent and not yet seen acknowledged,
/// oldest first, bounded by batches and by bytes so memory stays small while
/// the producer's queue stays full.
///
/// Batches leave only from the front: a position is acknowledged (and so may
/// be committed) only after its batch and every batch before it were, so no
/// commit ever passes an unacknowledged record.
struct SendWindow<Position> {
    /// What is kept of a sent batch until its acknowledgement (not its messages).
    struct Batch {
        var position: Position
        var messages: Int
        /// Key and value bytes of the messages.
        var bytes: Int
        var delivery: PendingDelivery
        /// When it was handed to the producer (its latency ends at the acknowledgement).
        var sentAt: ContinuousClock.Instant = .now
    }

    let limits: SourceRunner.WindowLimits
    private var batches: [Batch] = []
    private var head = 0
    private var bytes = 0

    init(limits: SourceRunner.WindowLimits) {
        self.limits = limits
    }

    var count: Int { batches.count - head }
    var isEmpty: Bool { count == 0 }
    var oldest: Batch? { isEmpty ? nil : batches[head] }

    /// Whether a batch of `more` bytes must wait for the oldest to be
    /// acknowledged; an empty window always takes one, however large.
    func isFull(adding more: Int) -> Bool {
        guard !isEmpty else { return false }
        return count >= limits.batches || bytes + more > limits.bytes
    }

    mutating func add(_ batch: Batch) {
        batches.append(batch)
        bytes += batch.bytes
    }

    /// The oldest batch; the window must not be empty.
    mutating func removeOldest() -> Batch {
        let batch = batches[head]
        head += 1
        bytes -= batch.bytes
        if head == batches.count {
            batches.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= batches.count {
            // A window that never empties (a task without ranges) must not grow.
            batches.removeFirst(head)
            head = 0
        }
        return batch
    }
}
