import PipelineCore
import XCTest

@testable import PostgresSource

/// pgoutput (protocol 1) and replication frames, decoded from bytes built
/// here by hand after PostgreSQL's "Logical Replication Message Formats".
final class PgOutputDecoderTests: XCTestCase {
    /// A little builder for big-endian fixtures.
    struct Bytes {
        var out: [UInt8] = []
        mutating func byte(_ c: Character) { out.append(c.asciiValue!) }
        mutating func u8(_ v: UInt8) { out.append(v) }
        mutating func u16(_ v: UInt16) { int(UInt64(v), 2) }
        mutating func u32(_ v: UInt32) { int(UInt64(v), 4) }
        mutating func u64(_ v: UInt64) { int(v, 8) }
        mutating func int(_ v: UInt64, _ size: Int) { for i in (0..<size).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        mutating func string(_ s: String) { out += Array(s.utf8) + [0] }
        mutating func text(_ s: String) { byte("t"); u32(UInt32(s.utf8.count)); out += Array(s.utf8) }
    }

    func decode(_ b: Bytes) throws -> PgOutputMessage { try PgOutputMessage.decode(b.out[...]) }

    func testBeginCommitOrigin() throws {
        var b = Bytes(); b.byte("B"); b.u64(0x1_0000_00A0); b.u64(123_456_789); b.u32(777)
        XCTAssertEqual(try decode(b), .begin(finalLSN: LSN(0x1_0000_00A0), commitMicros: 123_456_789, xid: 777))
        var c = Bytes(); c.byte("C"); c.u8(0); c.u64(0x10); c.u64(0x48); c.u64(5)
        XCTAssertEqual(try decode(c), .commit(commitLSN: LSN(0x10), endLSN: LSN(0x48), commitMicros: 5))
        var o = Bytes(); o.byte("O"); o.u64(0x99); o.string("upstream")
        XCTAssertEqual(try decode(o), .origin(commitLSN: LSN(0x99), name: "upstream"))
    }

    func testRelationAndType() throws {
        var b = Bytes(); b.byte("R"); b.u32(16_384); b.string("public"); b.string("users"); b.byte("d"); b.u16(2)
        b.u8(1); b.string("id"); b.u32(20); b.u32(UInt32(bitPattern: -1))
        b.u8(0); b.string("amount"); b.u32(1700); b.u32(UInt32((10 << 16 | 2) + 4))
        let expected = Relation(id: 16_384, namespace: "public", name: "users", replicaIdentity: UInt8(ascii: "d"), columns: [
            RelationColumn(isKey: true, name: "id", typeOID: 20, typeModifier: -1),
            RelationColumn(isKey: false, name: "amount", typeOID: 1700, typeModifier: (10 << 16 | 2) + 4),
        ])
        XCTAssertEqual(try decode(b), .relation(expected))
        var pgCatalog = Bytes(); pgCatalog.byte("R"); pgCatalog.u32(1); pgCatalog.string(""); pgCatalog.string("t"); pgCatalog.byte("f"); pgCatalog.u16(0)
        guard case .relation(let r) = try decode(pgCatalog) else { return XCTFail() }
        XCTAssertEqual(r.namespace, "pg_catalog", "an empty namespace is pg_catalog")
        var y = Bytes(); y.byte("Y"); y.u32(50_000); y.string("public"); y.string("mood")
        XCTAssertEqual(try decode(y), .type(oid: 50_000, namespace: "public", name: "mood"))
    }

    func testInsertWithNullUnchangedToastAndText() throws {
        var b = Bytes(); b.byte("I"); b.u32(7); b.byte("N"); b.u16(3); b.text("42"); b.byte("n"); b.byte("u")
        XCTAssertEqual(try decode(b), .insert(relation: 7, new: [.text(Array("42".utf8)), .null, .unchangedToast]))
    }

    func testUpdateWithoutOldWithKeyAndWithOldRow() throws {
        var plain = Bytes(); plain.byte("U"); plain.u32(7); plain.byte("N"); plain.u16(1); plain.text("a")
        XCTAssertEqual(try decode(plain), .update(relation: 7, old: nil, oldIsKey: false, new: [.text([97])]))
        var key = Bytes(); key.byte("U"); key.u32(7); key.byte("K"); key.u16(2); key.text("1"); key.byte("n"); key.byte("N"); key.u16(2); key.text("2"); key.byte("u")
        XCTAssertEqual(try decode(key), .update(relation: 7, old: [.text([49]), .null], oldIsKey: true, new: [.text([50]), .unchangedToast]))
        var full = Bytes(); full.byte("U"); full.u32(7); full.byte("O"); full.u16(1); full.text("x"); full.byte("N"); full.u16(1); full.text("y")
        XCTAssertEqual(try decode(full), .update(relation: 7, old: [.text([120])], oldIsKey: false, new: [.text([121])]))
    }

    func testDeleteAndTruncate() throws {
        var d = Bytes(); d.byte("D"); d.u32(9); d.byte("K"); d.u16(1); d.text("5")
        XCTAssertEqual(try decode(d), .delete(relation: 9, old: [.text([53])], oldIsKey: true))
        var o = Bytes(); o.byte("D"); o.u32(9); o.byte("O"); o.u16(1); o.byte("n")
        XCTAssertEqual(try decode(o), .delete(relation: 9, old: [.null], oldIsKey: false))
        var t = Bytes(); t.byte("T"); t.u32(2); t.u8(1); t.u32(9); t.u32(10)
        XCTAssertEqual(try decode(t), .truncate(relations: [9, 10], options: 1))
    }

    func testMalformedInputIsAnErrorNotACrash() {
        var truncated = Bytes(); truncated.byte("I"); truncated.u32(7); truncated.byte("N"); truncated.u16(1); truncated.byte("t"); truncated.u32(100)
        XCTAssertThrowsError(try decode(truncated)) { XCTAssertTrue("\($0)".contains("truncated")) }
        var unknown = Bytes(); unknown.byte("Z")
        XCTAssertThrowsError(try decode(unknown)) { XCTAssertTrue("\($0)".contains("unknown message type 'Z'")) }
        var unterminated = Bytes(); unterminated.byte("O"); unterminated.u64(1); unterminated.out += Array("abc".utf8)
        XCTAssertThrowsError(try decode(unterminated))
        XCTAssertThrowsError(try PgOutputMessage.decode([][...]))
    }

    func testReplicationFrames() throws {
        var w = Bytes(); w.byte("w"); w.u64(0x100); w.u64(0x200); w.u64(0); w.byte("B"); w.u64(1); w.u64(2); w.u32(3)
        guard case .xlogData(let start, let end, let data) = try ReplicationFrame.decode(w.out) else { return XCTFail() }
        XCTAssertEqual([start, end], [LSN(0x100), LSN(0x200)])
        XCTAssertEqual(try PgOutputMessage.decode(data), .begin(finalLSN: LSN(1), commitMicros: 2, xid: 3))
        var k = Bytes(); k.byte("k"); k.u64(0x300); k.u64(0); k.u8(1)
        XCTAssertEqual(try ReplicationFrame.decode(k.out), .keepalive(walEnd: LSN(0x300), replyRequested: true))
        var r = Bytes(); r.byte("r"); r.u64(0x500); r.u64(0x400); r.u64(0x400); r.u64(77); r.u8(0)
        XCTAssertEqual(ReplicationFrame.statusUpdate(written: LSN(0x500), flushed: LSN(0x400), nowMicros: 77), r.out)
    }

    func testLSNText() {
        XCTAssertEqual(LSN("16/B374D848"), LSN(0x16_B374_D848))
        XCTAssertEqual(LSN(0x16_B374_D848).description, "16/B374D848")
        XCTAssertNil(LSN("nonsense"))
    }

    func testPositionDeduplicatesByLSN() {
        let stored = CDCPosition(committed: LSN(0x100), partial: .init(transaction: LSN(0x180), change: LSN(0x150)), snapshotCompleted: true)
        XCTAssertTrue(stored.delivered(LSN(0x90), of: LSN(0xF0)), "a transaction committed before the stored position was delivered whole")
        XCTAssertTrue(stored.delivered(LSN(0x150), of: LSN(0x180)), "the partial transaction's changes up to the stored one")
        XCTAssertFalse(stored.delivered(LSN(0x160), of: LSN(0x180)), "and not those after it")
        XCTAssertFalse(stored.delivered(LSN(0x110), of: LSN(0x200)), "a later transaction was not delivered")
        XCTAssertEqual(CDCPosition(json: stored.json), stored)
    }
}
