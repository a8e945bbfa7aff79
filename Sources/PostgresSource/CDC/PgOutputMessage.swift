/// A log sequence number: a byte position in PostgreSQL's write-ahead log.
public struct LSN: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses PostgreSQL's `X/Y` text form (two hexadecimal halves).
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
              high <= UInt32.max, low <= UInt32.max else { return nil }
        value = high << 32 | low
    }

    public static let zero = LSN(0)

    /// `X/Y`, as PostgreSQL prints it.
    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }
}

/// One column of a ``PgOutputMessage/relation(_:)`` message.
struct RelationColumn: Sendable, Hashable {
    /// Part of the replica identity (the key pgoutput sends for updates and deletes).
    var isKey: Bool
    var name: String
    var typeOID: UInt32
    var typeModifier: Int32
}

/// A table as pgoutput describes it before its first change (and again after every schema change).
struct Relation: Sendable, Hashable {
    var id: UInt32
    var namespace: String
    var name: String
    /// `pg_class.relreplident`: d (default, the primary key), n (nothing), f (full), i (an index).
    var replicaIdentity: UInt8
    var columns: [RelationColumn]
}

/// One column's value in a tuple.
enum TupleValue: Sendable, Hashable {
    case null
    /// A TOASTed value the update did not change: pgoutput does not send it.
    case unchangedToast
    /// The value in PostgreSQL's text output form: a slice of the message
    /// it came in (decoded in place, no array of its own).
    case text(ArraySlice<UInt8>)

    /// A text value from bytes of its own (snapshot rows, tests).
    static func text(_ bytes: [UInt8]) -> TupleValue { .text(bytes[...]) }
}

/// A pgoutput message (protocol version 1), as carried in XLogData.
enum PgOutputMessage: Sendable, Hashable {
    /// `finalLSN` is the LSN of the transaction's commit record.
    case begin(finalLSN: LSN, commitMicros: Int64, xid: UInt32)
    case commit(commitLSN: LSN, endLSN: LSN, commitMicros: Int64)
    case origin(commitLSN: LSN, name: String)
    case relation(Relation)
    case type(oid: UInt32, namespace: String, name: String)
    case insert(relation: UInt32, new: [TupleValue])
    /// `old` is the old key (`K`, replica identity DEFAULT or INDEX whose key changed)
    /// or the whole old row (`O`, FULL); nil when neither was sent.
    case update(relation: UInt32, old: [TupleValue]?, oldIsKey: Bool, new: [TupleValue])
    case delete(relation: UInt32, old: [TupleValue], oldIsKey: Bool)
    /// `options`: bit 1 CASCADE, bit 2 RESTART IDENTITY.
    case truncate(relations: [UInt32], options: UInt8)
    /// A `pg_logical_emit_message` message (only sent with `messages 'true'`).
    case message(lsn: LSN, prefix: String, content: [UInt8])
}

/// Why a pgoutput message could not be read.
struct PgOutputError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "malformed pgoutput message: \(reason)" }
}

extension PgOutputMessage {
    /// Decodes one message; throws on truncated or unknown input.
    static func decode(_ bytes: ArraySlice<UInt8>) throws(PgOutputError) -> PgOutputMessage {
        var r = ByteReader(bytes)
        let tag = try r.byte()
        switch tag {
        case UInt8(ascii: "B"):
            return .begin(finalLSN: LSN(try r.uint64()), commitMicros: try r.int64(), xid: try r.uint32())
        case UInt8(ascii: "C"):
            _ = try r.byte()  // flags, unused
            return .commit(commitLSN: LSN(try r.uint64()), endLSN: LSN(try r.uint64()), commitMicros: try r.int64())
        case UInt8(ascii: "O"):
            return .origin(commitLSN: LSN(try r.uint64()), name: try r.cString())
        case UInt8(ascii: "R"):
            let id = try r.uint32()
            let namespace = try r.cString(), name = try r.cString()
            let identity = try r.byte()
            let count = Int(try r.uint16())
            var columns: [RelationColumn] = []
            columns.reserveCapacity(count)
            for _ in 0..<count {
                let flags = try r.byte()
                let column = try r.cString()
                columns.append(RelationColumn(isKey: flags & 1 != 0, name: column, typeOID: try r.uint32(), typeModifier: Int32(bitPattern: try r.uint32())))
            }
            // pg_catalog's namespace is sent as an empty string.
            return .relation(Relation(id: id, namespace: namespace.isEmpty ? "pg_catalog" : namespace, name: name, replicaIdentity: identity, columns: columns))
        case UInt8(ascii: "Y"):
            return .type(oid: try r.uint32(), namespace: try r.cString(), name: try r.cString())
        case UInt8(ascii: "I"):
            let relation = try r.uint32()
            guard try r.byte() == UInt8(ascii: "N") else { throw PgOutputError(reason: "insert without a new tuple") }
            return .insert(relation: relation, new: try r.tuple())
        case UInt8(ascii: "U"):
            let relation = try r.uint32()
            var old: [TupleValue]?
            var oldIsKey = false
            var kind = try r.byte()
            if kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") {
                oldIsKey = kind == UInt8(ascii: "K")
                old = try r.tuple()
                kind = try r.byte()
            }
            guard kind == UInt8(ascii: "N") else { throw PgOutputError(reason: "update without a new tuple") }
            return .update(relation: relation, old: old, oldIsKey: oldIsKey, new: try r.tuple())
        case UInt8(ascii: "D"):
            let relation = try r.uint32()
            let kind = try r.byte()
            guard kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") else { throw PgOutputError(reason: "delete without an old tuple") }
            return .delete(relation: relation, old: try r.tuple(), oldIsKey: kind == UInt8(ascii: "K"))
        case UInt8(ascii: "T"):
            let count = Int(try r.uint32())
            let options = try r.byte()
            var relations: [UInt32] = []
            for _ in 0..<count { relations.append(try r.uint32()) }
            return .truncate(relations: relations, options: options)
        case UInt8(ascii: "M"):
            _ = try r.byte()  // transactional flag
            let lsn = LSN(try r.uint64())
            let prefix = try r.cString()
            let length = Int(try r.uint32())
            return .message(lsn: lsn, prefix: prefix, content: Array(try r.bytes(length)))
        default:
            throw PgOutputError(reason: "unknown message type '\(Character(Unicode.Scalar(tag)))' (0x\(String(tag, radix: 16)))")
        }
    }
}

/// Big-endian reads over a byte slice, throwing when the input runs out.
struct ByteReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func byte() throws(PgOutputError) -> UInt8 {
        guard let first = bytes.popFirst() else { throw PgOutputError(reason: "truncated") }
        return first
    }

    mutating func bytes(_ count: Int) throws(PgOutputError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw PgOutputError(reason: "truncated (\(count) bytes announced, \(bytes.count) left)") }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    mutating func integer(_ size: Int) throws(PgOutputError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try bytes(size) { value = value << 8 | UInt64(byte) }
        return value
    }

    mutating func uint16() throws(PgOutputError) -> UInt16 { UInt16(try integer(2)) }
    mutating func uint32() throws(PgOutputError) -> UInt32 { UInt32(try integer(4)) }
    mutating func uint64() throws(PgOutputError) -> UInt64 { try integer(8) }
    mutating func int64() throws(PgOutputError) -> Int64 { Int64(bitPattern: try integer(8)) }

    /// A NUL-terminated string.
    mutating func cString() throws(PgOutputError) -> String {
        guard let end = bytes.firstIndex(of: 0) else { throw PgOutputError(reason: "unterminated string") }
        let text = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        bytes = bytes[(end + 1)...]
        return text
    }

    /// TupleData: a column count, then per column 'n', 'u', or 't'/'b' with a length and the bytes.
    mutating func tuple() throws(PgOutputError) -> [TupleValue] {
        let count = Int(try uint16())
        var values: [TupleValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            switch try byte() {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"): values.append(.text(try bytes(Int(try uint32()))))
            case let kind:
                // 'b' (binary) is only sent when asked for with `binary 'true'`, which this client never does.
                throw PgOutputError(reason: "unsupported tuple value kind '\(Character(Unicode.Scalar(kind)))'")
            }
        }
        return values
    }
}
