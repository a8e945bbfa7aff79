/// The messages of the streaming replication protocol carried in CopyData
/// once `START_REPLICATION` switched the connection to CopyBoth.
enum ReplicationFrame: Sendable, Hashable {
    /// XLogData (`w`): WAL data (here, one pgoutput message) starting at `start`.
    case xlogData(start: LSN, walEnd: LSN, data: ArraySlice<UInt8>)
    /// Primary keepalive (`k`): the server has sent WAL up to `walEnd`; with
    /// `replyRequested` it wants a standby status update at once (else it
    /// disconnects after `wal_sender_timeout`).
    case keepalive(walEnd: LSN, replyRequested: Bool)

    /// Reads one CopyData payload from the server.
    static func decode(_ bytes: [UInt8]) throws(PgOutputError) -> ReplicationFrame {
        var r = ByteReader(bytes[...])
        switch try r.byte() {
        case UInt8(ascii: "w"):
            let start = LSN(try r.uint64()), end = LSN(try r.uint64())
            _ = try r.int64()  // server clock
            return .xlogData(start: start, walEnd: end, data: r.bytes)
        case UInt8(ascii: "k"):
            let end = LSN(try r.uint64())
            _ = try r.int64()
            return .keepalive(walEnd: end, replyRequested: try r.byte() == 1)
        case let tag:
            throw PgOutputError(reason: "unknown replication message '\(Character(Unicode.Scalar(tag)))'")
        }
    }

    /// A standby status update (`r`): everything up to `flushed` is durably
    /// handled (the slot's `confirmed_flush_lsn` moves there), received up to
    /// `written`. `nowMicros` is microseconds since 2000-01-01, PostgreSQL's epoch.
    static func statusUpdate(written: LSN, flushed: LSN, nowMicros: Int64, replyRequested: Bool = false) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "r")]
        out.reserveCapacity(34)
        for value in [written.value, flushed.value, flushed.value, UInt64(bitPattern: nowMicros)] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        out.append(replyRequested ? 1 : 0)
        return out
    }

    /// Microseconds between 1970-01-01 and 2000-01-01.
    static let postgresEpochOffsetMicros: Int64 = 946_684_800_000_000
}
