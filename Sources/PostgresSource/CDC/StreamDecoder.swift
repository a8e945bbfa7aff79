import Logging
import PipelineCore

/// Turns the replication stream's pgoutput messages into change events and
/// position changes, on the stream's own thread (see
/// ``ReplicationStream/receive(maxMessages:wait:into:_:)``): each receive
/// carries the decoder to that thread and hands it back with what it read,
/// so the next batch is read, decoded and encoded while the task sends the
/// previous one, and every message is still taken in stream order.
///
/// A Relation message of a captured table stops the read (``take(_:at:)``
/// returns false): its writer needs the table's primary key, which the task
/// looks up on its own connection before the next receive, so no row of the
/// relation is encoded with an older description of it.
struct StreamDecoder: Sendable {
    /// What a receive hands back: the decoder after it, and the furthest WAL position the server reported sending.
    typealias Received = (state: StreamDecoder, walEnd: LSN)

    /// The writers of the tables' events by relation id, as their last Relation message described them.
    private(set) var tables: [UInt32: ChangeEventWriter] = [:]
    /// What the stream has been read up to (the next batch's position).
    var read = CDCPosition(committed: .zero, snapshotCompleted: true)
    /// Changes at or below this were delivered by an earlier run (or before a reconnect).
    var delivered = CDCPosition(committed: .zero, snapshotCompleted: true)
    /// The transaction being read: its commit record's LSN, id and commit time.
    var transaction: (final: LSN, xid: UInt32, commitMillis: Int64)?
    /// Events delivered after the stored position by an earlier run (or
    /// before a reconnect), not sent again when the stream produces them.
    var recovered: DeliveredChanges?
    /// Tables without a key (their events have no Kafka key), and those already warned about.
    private var keyless: Set<UInt32> = [], keylessReported: Set<UInt32> = []
    /// The events of the changes taken since ``takeMessages()``, in stream order.
    private(set) var messages: [KafkaMessage] = []
    /// A captured table's Relation message the read stopped at: its writer is to be made before anything after it is taken.
    var relation: Relation?

    /// `table.include.list`; nil: whatever the publication sends.
    let filter: TableFilter?
    /// `skipped.operations`.
    let skippedOperations: Set<String>
    let logger: Logger

    init(filter: TableFilter?, skippedOperations: Set<String>, logger: Logger) {
        self.filter = filter
        self.skippedOperations = skippedOperations
        self.logger = logger
    }

    /// Makes `writer` the one of `id`'s changes (after its Relation message).
    mutating func install(_ writer: ChangeEventWriter, for id: UInt32) {
        // Looked up per change as a set, not through the writer: reading the
        // writer's table out of the dictionary copied the whole writer.
        if writer.table.keyIndexes.isEmpty { keyless.insert(id) } else { keyless.remove(id) }
        tables[id] = writer
    }

    /// Starts over at `position` (a new stream): the writers stay, what was read is forgotten.
    mutating func restart(at position: CDCPosition) {
        read = position
        delivered = position
        transaction = nil
        messages = []
        relation = nil
    }

    /// The events taken so far; the next ones start a new batch.
    mutating func takeMessages() -> [KafkaMessage] {
        defer { messages = [] }
        return messages
    }

    /// Takes one pgoutput message; false after a captured table's Relation
    /// message (see ``relation``): the read stops there.
    mutating func take(_ message: PgOutputMessage, at lsn: LSN) throws -> Bool {
        switch message {
        case .begin(let final, let micros, let xid):
            transaction = (final, xid, micros / 1000 + ReplicationFrame.postgresEpochOffsetMicros / 1000)
        case .commit(_, let end, _):
            read.committed = max(read.committed, end)
            read.partial = nil
            transaction = nil
        case .relation(let relation):
            guard filter?.matches("\(relation.namespace).\(relation.name)") ?? true else { return true }
            self.relation = relation
            return false
        case .insert(let id, let new):
            try capture(.insert(new), of: id, at: lsn)
        case .update(let id, let old, _, let new):
            try capture(.update(old: old, new: new), of: id, at: lsn)
        case .delete(let id, let old, _):
            try capture(.delete(old: old), of: id, at: lsn)
        case .truncate(let ids, _):
            for id in ids { try capture(.truncate, of: id, at: lsn) }
        case .origin, .type, .message:
            break
        }
        return true
    }

    private mutating func capture(_ change: CapturedChange, of id: UInt32, at lsn: LSN) throws {
        guard let transaction else { throw PostgresError.schema(table: "relation \(id)", reason: "a change outside a transaction at \(lsn)") }
        guard !delivered.delivered(lsn, of: transaction.final) else { return }
        read.partial = .init(transaction: transaction.final, change: lsn)
        // Through the dictionary's index: its values are written in place, never copied out and back.
        guard let slot = tables.index(forKey: id) else { return }  // not captured
        guard !skippedOperations.contains(change.operation) else { return }
        if keyless.contains(id), keylessReported.insert(id).inserted {
            logger.warning("\(tables.values[slot].table.label) has no primary key: its change events have no Kafka key (first at \(lsn))")
        }
        let origin = ChangeOrigin(lsn: lsn, txId: transaction.xid, commitMillis: transaction.commitMillis)
        let events = try tables.values[slot].messages(change, origin: origin)
        guard recovered != nil else {
            messages += events
            return
        }
        for event in events where !recovered!.take(event, lsn: lsn) { messages.append(event) }
        if recovered!.isEmpty {
            logger.info("every change delivered before the restart was met again at \(lsn); none was sent twice")
            recovered = nil
        }
    }
}
