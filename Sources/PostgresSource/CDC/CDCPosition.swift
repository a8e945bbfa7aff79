import PipelineCore

/// How far the change stream has been delivered: the source's stored
/// offset, and the position of each batch it hands to the runner.
///
/// `committed` is the end LSN of the last transaction whose every change the
/// broker acknowledged (what the slot is confirmed to). A batch may end in
/// the middle of a big transaction: `partial` then names that transaction
/// (by its commit record's LSN, which pgoutput's Begin carries) and the last
/// change of it delivered. After a restart the server sends that transaction
/// again from its start; its changes up to `partial.change` are skipped, so
/// nothing is sent twice (deduplication by LSN).
struct CDCPosition: Sendable, Equatable {
    struct Partial: Sendable, Equatable {
        /// The transaction's commit record (Begin's final LSN).
        var transaction: LSN
        /// The last change of it delivered.
        var change: LSN
    }

    var committed: LSN
    var partial: Partial?
    /// The initial snapshot was delivered (or none was needed).
    var snapshotCompleted: Bool

    /// A transaction whose commit record lies before `committed` was delivered whole.
    func deliveredWhole(_ transaction: LSN) -> Bool { transaction < committed }

    /// A change at `lsn` of `transaction` was delivered before.
    func delivered(_ lsn: LSN, of transaction: LSN) -> Bool {
        if deliveredWhole(transaction) { return true }
        guard let partial, partial.transaction == transaction else { return false }
        return lsn <= partial.change
    }

    var json: JSON {
        var members: [(String, JSON)] = [("lsn", .string(committed.description)), ("snapshot_completed", .bool(snapshotCompleted))]
        if let partial {
            members += [("tx_lsn", .string(partial.transaction.description)), ("change_lsn", .string(partial.change.description))]
        }
        return .object(members)
    }

    init(committed: LSN, partial: Partial? = nil, snapshotCompleted: Bool) {
        self.committed = committed
        self.partial = partial
        self.snapshotCompleted = snapshotCompleted
    }

    /// Reads a stored offset; nil when `json` is not one this source wrote.
    init?(json: JSON) {
        guard let text = json["lsn"]?.stringValue, let committed = LSN(text) else { return nil }
        self.committed = committed
        if case .bool(let done)? = json["snapshot_completed"] { snapshotCompleted = done } else { snapshotCompleted = false }
        if let tx = json["tx_lsn"]?.stringValue.flatMap(LSN.init), let change = json["change_lsn"]?.stringValue.flatMap(LSN.init) {
            partial = Partial(transaction: tx, change: change)
        }
    }
}

/// What a batch handed to the runner covers.
struct CDCBatchPosition: Sendable {
    enum Reach: Sendable {
        /// Snapshot rows; `last` on the batch that ends the snapshot (at `consistentPoint`).
        case snapshot(last: Bool, consistentPoint: LSN)
        case stream(CDCPosition)
    }

    var reach: Reach
    /// Each message's topic, in order: delivery reports name only partition
    /// and offset, and the stored offset keeps the Kafka offsets it covers (``KafkaCoverage``).
    var topics: [String]

    init(_ reach: Reach, messages: [KafkaMessage]) {
        self.reach = reach
        topics = messages.map(\.topic)
    }
}

/// Failures particular to change data capture; each names the slot or table.
public enum CDCError: Error, Sendable, CustomStringConvertible {
    /// The slot an earlier run streamed from is gone: changes since `resumeLSN` cannot be read.
    case slotMissing(slot: String, resumeLSN: String)
    /// The server invalidated the slot (its WAL was removed, `max_slot_wal_keep_size`).
    case slotInvalidated(slot: String, status: String)
    /// The slot exists but belongs to another plugin or database.
    case slotUnusable(slot: String, reason: String)
    /// An update or delete of `table` cannot be captured as configured.
    case notCapturable(table: String, reason: String)

    public var description: String {
        switch self {
        case .slotMissing(let slot, let lsn):
            return "replication slot '\(slot)' does not exist, but this connector's offsets resume from LSN \(lsn): it was dropped or recreated, and the changes since then are lost to it. "
                + "Not re-snapshotting silently: delete the connector's offsets to start over with a new snapshot, or set snapshot.mode=when_needed to do so automatically"
        case .slotInvalidated(let slot, let status):
            return "replication slot '\(slot)' was invalidated by the server (wal_status \(status)): WAL it needed was removed (max_slot_wal_keep_size). Drop it and delete the connector's offsets to start over with a new snapshot"
        case .slotUnusable(let slot, let reason):
            return "replication slot '\(slot)' cannot be used: \(reason)"
        case .notCapturable(let table, let reason):
            return "changes of \(table) cannot be captured: \(reason)"
        }
    }
}
