/// Why no row is lost to out-of-order commits, and the SQL that ensures it.
///
/// ## The problem
/// Kafka Connect's incrementing and timestamp modes remember the largest key
/// they emitted and next ask for `key > last`. Keys are taken when a row is
/// written, but rows become visible when their transaction commits, and
/// concurrent transactions commit in any order: A takes id 7 and is still
/// open, B takes id 8 and commits, the poller sees 8 and moves past it, A
/// commits, and 7 is never read (kafka-connect-jdbc issues 27, 915, 1015).
/// Timestamps set by writers have the same flaw.
///
/// ## The fence
/// Every poll cycle of a table has two steps.
///
/// 1. **Probe.** One statement, hence one snapshot, finds the cycle's upper
///    bound `K`: the largest key among the next rows above the stored offset
///    (at most `maxRowsPerCycle` of them; in timestamp modes only rows older
///    than `now() - timestamp.delay.interval.ms`). The same statement then
///    lists, from `pg_locks`, every other transaction holding a write lock
///    (ROW EXCLUSIVE or stronger) on the table or its partitions.
/// 2. **Wait, then read.** The cycle waits until every one of those
///    transactions has ended (its virtual transaction id is gone from
///    `pg_locks`), then reads exactly the range `(offset, K]`, in key order,
///    through a cursor, and sends it. Rows above `K` wait for the next cycle.
///
/// Why nothing is lost: take a row with key `k <= K` that was not yet visible
/// to the probe's snapshot, written by a transaction T. INSERT and COPY lock
/// the table (ROW EXCLUSIVE) while the statement is being planned, before
/// they evaluate `nextval()` for the key, and keep the lock until T ends.
/// Sequences hand out increasing values, so T took `k` before the probe's
/// snapshot, when the key that became `K` was taken — otherwise `k` would be
/// larger than `K`. So T held its lock when the probe read `pg_locks` (which
/// happens after the snapshot was taken), and the cycle waits for T. Once T
/// has ended it is committed or rolled back, and every later snapshot, such
/// as the cursor's, sees the outcome: the range read contains `k` if it
/// exists. No transaction that starts after the probe can add a key `<= K`.
/// (PostgreSQL makes a commit visible before releasing the locks, so "lock
/// gone" implies "visible".)
///
/// The same argument holds for timestamp columns whose values are taken
/// while the writer holds the lock: `clock_timestamp()`, triggers, or values
/// from the application's clock at statement time. A column defaulting to
/// `now()` is the transaction's *start* time, which can precede the lock by
/// as long as the transaction ran before writing; `timestamp.delay.interval.ms`
/// must then cover that time, exactly as with Kafka Connect.
///
/// Prepared (two-phase) transactions keep their locks under a different
/// virtual transaction id; while any prepared transaction holds a write lock
/// on the table the fence stays closed.
///
/// ## Limits
/// Keys fixed *before* the writer touches the table are outside the
/// argument: an application that calls `nextval()` in one statement and
/// inserts the value much later in the same transaction can still commit a
/// key below one already passed. So can a sequence with `CACHE` above 1 (each
/// session then takes keys from its own block, out of time order); serial
/// and identity columns default to `CACHE 1`. Use CDC (logical decoding) for
/// such writers.
/// Custom queries (`query`) may read any table, so their fence waits for
/// write locks on every relation of the database.
///
/// ## Cost
/// Reads are never delayed by transactions that start after the probe, and
/// with no writer in flight the cycle proceeds at once. A transaction left
/// open holds back only the tables it wrote to, and only until it ends;
/// rows are delivered exactly once unless the source stops between a send
/// and storing its offset (at-least-once).
enum CommitFence {
    /// Lock modes of writers (INSERT/UPDATE/DELETE/COPY take ROW EXCLUSIVE).
    /// SHARE UPDATE EXCLUSIVE (VACUUM, ANALYZE) is not a writer and is left out.
    static let writerModes = "('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"

    /// Which locks count: those on one table and its partitions, or on any relation of this database.
    enum Scope: Sendable, Hashable {
        case table(oid: UInt32)
        case database
    }

    /// A boolean SQL condition on `pg_locks l` selecting writer locks in `scope`.
    static func writerLocks(_ scope: Scope) -> String {
        let relation: String
        switch scope {
        case .table(let oid):
            relation = "(l.relation = \(oid)::oid OR l.relation IN (SELECT relid FROM pg_partition_tree(\(oid)::oid::regclass)))"
        case .database:
            relation = "l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        }
        return "l.locktype = 'relation' AND l.mode IN \(writerModes) AND \(relation)"
    }

    /// An expression listing the virtual transaction ids of the other writers,
    /// as a text array literal. Evaluated inside the probe's statement, so after its snapshot.
    static func writersExpression(_ scope: Scope) -> String {
        "(SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}') FROM pg_locks l "
            + "WHERE \(writerLocks(scope)) AND l.pid IS DISTINCT FROM pg_backend_pid() AND l.pid IS NOT NULL)::text"
    }

    /// A statement counting what the fence still waits for: locks of the listed
    /// transactions ($1, a text array), plus writer locks of prepared transactions.
    static func pendingStatement(_ scope: Scope) -> String {
        "SELECT count(*) FROM pg_locks l WHERE l.virtualtransaction = ANY($1::text[]) "
            + "OR (l.pid IS NULL AND \(writerLocks(scope)))"
    }
}
