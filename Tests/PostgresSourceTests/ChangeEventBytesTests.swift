@testable import PipelineCore
import XCTest

@testable import PostgresSource

/// The bytes of Debezium change events, as Connect's JsonConverter writes them.
final class ChangeEventBytesTests: XCTestCase {
    let relation = Relation(id: 1, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"), columns: [
        RelationColumn(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
        RelationColumn(isKey: false, name: "doc", typeOID: 25, typeModifier: -1),
    ])

    /// The events of `change` of `table`, from a fresh writer.
    func messages(_ change: CapturedChange, tombstones: Bool = true) throws -> [KafkaMessage] {
        var encoder = ChangeEventEncoder(serverName: "srv", database: "db", tombstones: tombstones, keySchemasEnabled: true, valueSchemasEnabled: true)
        encoder.now = { 1_700_000_000_999 }
        var writer = encoder.writer(for: table)
        return try writer.messages(change, origin: origin)
    }

    var table: CapturedTable { CapturedTable(relation: relation, primaryKey: ["id"], topicPrefix: "srv", decimalMode: .precise) }
    let origin = ChangeOrigin(lsn: LSN(0x100), txId: 7, commitMillis: 1_700_000_000_000)

    func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "null" }

    func testInsertEnvelopeBytes() throws {
        let messages = try messages(.insert([.text(Array("5".utf8)), .text(Array("hi".utf8))]))
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages[0].topic, "srv.public.t")
        XCTAssertEqual(text(messages[0].key),
            #"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"srv.public.t.Key"},"payload":{"id":5}}"#)
        let value = text(messages[0].value)
        let row = #"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"string","optional":true,"field":"doc"}],"optional":true,"name":"srv.public.t.Value","field":"#
        XCTAssertTrue(value.hasPrefix(#"{"schema":{"type":"struct","fields":["# + row + #""before"},"# + row + #""after"},"#), value)
        XCTAssertTrue(value.contains(#""name":"srv.public.t.Envelope""#), value)
        XCTAssertTrue(value.contains(#""name":"io.debezium.connector.postgresql.Source""#), value)
        XCTAssertTrue(value.hasSuffix(
            #""payload":{"before":null,"after":{"id":5,"doc":"hi"},"source":{"version":"\#(ChangeEventEncoder.version)","connector":"postgresql","name":"srv","ts_ms":1700000000000,"snapshot":"false","db":"db","sequence":null,"schema":"public","table":"t","txId":7,"lsn":256,"xmin":null},"op":"c","ts_ms":1700000000999,"transaction":null}}"#),
            value)
    }

    func testDeleteThenTombstoneAndNoneWhenDisabled() throws {
        let old: [TupleValue] = [.text(Array("5".utf8)), .null]
        let with = try messages(.delete(old: old))
        XCTAssertEqual(with.count, 2)
        XCTAssertTrue(text(with[0].value).contains(#""before":{"id":5,"doc":null},"after":null"#))
        XCTAssertTrue(text(with[0].value).contains(#""op":"d""#))
        XCTAssertEqual(with[1].key, with[0].key)
        XCTAssertNil(with[1].value, "the tombstone")
        XCTAssertEqual(try messages(.delete(old: old), tombstones: false).count, 1)
    }

    func testUnchangedToastIsLeftOutNotAPlaceholder() throws {
        let messages = try messages(.update(old: nil, new: [.text(Array("5".utf8)), .unchangedToast]))
        let value = text(messages[0].value)
        XCTAssertTrue(value.contains(#""after":{"id":5},"#), value)
        XCTAssertFalse(value.contains("__debezium_unavailable_value"))
        XCTAssertTrue(value.contains(#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"}],"optional":true,"name":"srv.public.t.Value","field":"after"}"#), value)
    }

    func testKeyChangeIsDeleteTombstoneCreate() throws {
        let messages = try messages(
            .update(old: [.text(Array("5".utf8)), .null], new: [.text(Array("6".utf8)), .text(Array("x".utf8))]))
        XCTAssertEqual(messages.map { $0.value == nil ? "tombstone" : (text($0.value).contains(#""op":"d""#) ? "d" : "c") }, ["d", "tombstone", "c"])
        XCTAssertTrue(text(messages[0].key).hasSuffix(#""payload":{"id":5}}"#))
        XCTAssertTrue(text(messages[2].key).hasSuffix(#""payload":{"id":6}}"#))
    }

    func testBadTextNamesTableAndColumn() {
        XCTAssertThrowsError(try messages(.insert([.text(Array("five".utf8)), .null]))) {
            XCTAssertEqual("\($0)", "cannot convert public.t.id: cannot read 'five' as int32")
        }
    }

    func testTopicNamesReplaceWhatKafkaRefuses() {
        XCTAssertEqual(CapturedTable.topicName("srv.public.order lines\"ü"), "srv.public.order_lines__")
        XCTAssertEqual(CapturedTable.topicName("srv.Sales-2024.T_1"), "srv.Sales-2024.T_1")
    }

    func testTableIncludeListTakesNamesAndRegularExpressions() throws {
        let filter = TableFilter(tables: ["public.users", "sales\\.order_.*"])
        XCTAssertTrue(filter.matches("public.users"))
        XCTAssertFalse(filter.matches("publicXusers"), "a plain name's dots are literal")
        XCTAssertTrue(filter.matches("SALES.Order_lines"), "expressions ignore case")
        XCTAssertFalse(filter.matches("sales.orders"))
        XCTAssertFalse(filter.matches("xsales.order_1"), "the whole name must match")
        XCTAssertEqual(try filter.resolve(among: ["public.users", "sales.order_a", "sales.other"]), ["public.users", "sales.order_a"])
        XCTAssertThrowsError(try filter.resolve(among: ["sales.order_a"])) { XCTAssertTrue("\($0)".contains("public.users does not exist"), "\($0)") }
        XCTAssertThrowsError(try TableFilter(tables: ["public.(x"]).resolve(among: [])) { XCTAssertTrue("\($0)".contains("not a valid regular expression"), "\($0)") }
        let bySchema = TableFilter(excludedTables: [".*\\.audit_.*"], schemas: ["sales|public"])
        XCTAssertEqual(try bySchema.resolve(among: ["public.a", "sales.audit_x", "sales.b", "hr.c"]), ["public.a", "sales.b"])
        XCTAssertFalse(TableFilter(excludedSchemas: ["hr"]).matches("hr.c"))
    }

    func testConfigReadsDebeziumKeys() throws {
        let config = try PostgresCDCConfig(properties: [
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": "db", "database.user": "u",
            "database.password": "secret", "database.dbname": "app", "topic.prefix": "srv", "table.include.list": "public.a,s.b",
            "slot.name": "s1", "publication.autocreate.mode": "filtered", "snapshot.mode": "when_needed", "heartbeat.interval.ms": "500",
            "tombstones.on.delete": "false", "decimal.handling.mode": "string", "slot.drop.on.stop": "true",
        ], environment: [:])
        XCTAssertEqual(config.tables, ["public.a", "s.b"])
        XCTAssertEqual(config.snapshotMode, .whenNeeded)
        XCTAssertEqual(config.publicationMode, .filtered)
        XCTAssertEqual(config.heartbeatIntervalMilliseconds, 500)
        XCTAssertFalse(config.tombstonesOnDelete)
        XCTAssertEqual(config.decimalMode, .string)
        XCTAssertEqual(config.ignoredKeyNotices.count, 1)
        XCTAssertFalse("\(config.connection)".contains("secret"))
        XCTAssertThrowsError(try PostgresCDCConfig(properties: ["database.hostname": "db", "database.user": "u", "database.dbname": "app", "topic.prefix": "p", "snapshot.mode": "always"], environment: [:])) {
            XCTAssertTrue("\($0)".contains("snapshot.mode"), "\($0)")
        }
        XCTAssertThrowsError(try PostgresCDCConfig(properties: ["database.hostname": "db", "database.user": "u", "database.dbname": "app", "topic.prefix": "p", "slot.nam": "x"], environment: [:])) {
            XCTAssertTrue("\($0)".contains("slot.name"), "\($0)")
        }
    }

    /// Debezium 2: truncates are skipped unless `skipped.operations` says
    /// otherwise; Debezium 1's `truncate.handling.mode=include` still works.
    func testSkippedOperations() throws {
        let base = ["database.hostname": "db", "database.user": "u", "database.dbname": "app", "topic.prefix": "p"]
        func skipped(_ extra: [String: String]) throws -> Set<String> {
            try PostgresCDCConfig(properties: base.merging(extra) { $1 }, environment: [:]).skippedOperations
        }
        XCTAssertEqual(try skipped([:]), ["t"])
        XCTAssertEqual(try skipped(["skipped.operations": "none"]), [])
        XCTAssertEqual(try skipped(["skipped.operations": "u,d"]), ["u", "d"])
        XCTAssertEqual(try skipped(["truncate.handling.mode": "include"]), [])
        XCTAssertEqual(try skipped(["truncate.handling.mode": "include", "skipped.operations": "t"]), ["t"])
        XCTAssertThrowsError(try skipped(["skipped.operations": "x"])) { XCTAssertTrue("\($0)".contains("skipped.operations"), "\($0)") }
    }

    /// What a restart recognises in Kafka: events by topic, key and
    /// `source.lsn` (with or without the schema envelope), tombstones by the
    /// delete before them; anything else is never taken.
    func testDeliveredChangesMatchByTopicKeyAndLSN() {
        func event(_ offset: Int64, key: String?, lsn: Int, schema: Bool = true) -> KafkaMessage {
            let payload = #"{"op":"c","source":{"lsn":\#(lsn)}}"#
            let value = schema ? #"{"schema":{"type":"struct"},"payload":\#(payload)}"# : payload
            return KafkaMessage(topic: "t", partition: 0, offset: offset, key: key.map { Array($0.utf8) }, value: Array(value.utf8))
        }
        let tombstone = KafkaMessage(topic: "t", partition: 0, offset: 2, key: Array("k1".utf8), value: nil)
        let heartbeat = KafkaMessage(topic: "t", partition: 0, offset: 3, key: nil, value: Array(#"{"ts_ms":1}"#.utf8))
        var found = DeliveredChanges([event(0, key: "k0", lsn: 100), event(1, key: "k1", lsn: 200, schema: false), tombstone, heartbeat])
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(found.unreadable, 1)
        XCTAssertFalse(found.take(event(9, key: "k0", lsn: 101), lsn: LSN(101)), "another LSN")
        XCTAssertFalse(found.take(event(9, key: "k9", lsn: 100), lsn: LSN(100)), "another key")
        XCTAssertFalse(found.take(KafkaMessage(topic: "u", key: Array("k0".utf8), value: []), lsn: LSN(100)), "another topic")
        XCTAssertTrue(found.take(event(9, key: "k0", lsn: 100), lsn: LSN(100)))
        XCTAssertFalse(found.take(event(9, key: "k0", lsn: 100), lsn: LSN(100)), "taken once")
        XCTAssertTrue(found.take(KafkaMessage(topic: "t", key: Array("k1".utf8), value: nil), lsn: LSN(200)), "the tombstone of the delete at 200")
        XCTAssertTrue(found.take(event(9, key: "k1", lsn: 200), lsn: LSN(200)))
        XCTAssertTrue(found.isEmpty)
        var coverage: KafkaCoverage = [:]
        coverage.advance(topics: ["t", "hb", "t"], reports: [.init(partition: 0, offset: 5), .init(partition: 0, offset: 9), .init(partition: 1, offset: 2)], except: "hb")
        XCTAssertEqual(coverage, ["t": [0: 6, 1: 3]])
        XCTAssertEqual(KafkaCoverage(json: coverage.json), coverage)
    }

    /// One-dimensional arrays of the mapped types are Connect arrays (NULL
    /// elements, quotes, escapes, spaces); anything else is not read.
    func testArraysAreConnectArrays() {
        XCTAssertEqual(PGArrayText.elements(Array(#"{1, 2 ,NULL}"#.utf8))?.map { $0.map { String(decoding: $0, as: UTF8.self) } }, ["1", "2", nil])
        XCTAssertEqual(PGArrayText.elements(Array(#"{"a b","c\"d",NULL,"NULL",""}"#.utf8))?.map { $0.map { String(decoding: $0, as: UTF8.self) } }, ["a b", "c\"d", nil, "NULL", ""])
        XCTAssertEqual(PGArrayText.elements(Array("{}".utf8))?.count, 0)
        for bad in ["{{1,2},{3,4}}", "[0:1]={1,2}", "{1,2", "{\"a\"b}", "{1}x", "1,2"] {
            XCTAssertNil(PGArrayText.elements(Array(bad.utf8)), bad)
        }
        let ints = CapturedColumn(RelationColumn(isKey: false, name: "tags", typeOID: 1007, typeModifier: -1), decimalMode: .precise, table: "t")
        XCTAssertEqual(ints.schema.type, .array)
        XCTAssertEqual(ints.schema.valueSchema?.type, .int32)
        XCTAssertEqual(ints.value(ArraySlice("{1,NULL,3}".utf8)), .array([.int(1), .null, .int(3)]))
        XCTAssertNil(ints.value(ArraySlice("{1,x}".utf8)), "an element not of the type")
        let texts = CapturedColumn(RelationColumn(isKey: false, name: "names", typeOID: 1009, typeModifier: -1), decimalMode: .precise, table: "t")
        XCTAssertEqual(texts.value(ArraySlice(#"{"ann lee",bob}"#.utf8)), .array([.string("ann lee"), .string("bob")]))
        let moods = CapturedColumn(RelationColumn(isKey: false, name: "moods", typeOID: 99_999, typeModifier: -1), decimalMode: .precise, table: "t")
        XCTAssertEqual(moods.value(ArraySlice("{happy}".utf8)), .string("{happy}"), "arrays of other types stay text")
    }
}
