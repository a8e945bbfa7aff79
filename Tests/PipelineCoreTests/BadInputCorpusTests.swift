import PipelineCore
import XCTest

/// Bad input that PipelineCore judges alone: connector configs and message
/// bytes. Each case names itself in its failure message.
final class BadInputCorpusTests: XCTestCase {
    let definition = ConfigDefinition(keys: [
        ConfigKey("topics", .list, default: nil, doc: "Topics"),
        ConfigKey("flush.size", .int, default: "1", doc: "Records per file"),
        ConfigKey("rotate.interval.ms", .long, default: "-1", doc: "Rotation"),
    ])

    // MARK: - Config: Connect's no-op keys are accepted with a notice

    func testConnectNoOpKeysAreAcceptedAndNamedInANotice() throws {
        let noOps = [
            "internal.key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "internal.value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "internal.key.converter.schemas.enable": "false",
            "internal.value.converter.schemas.enable": "false",
            "value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            "key.converter.key.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicNameStrategy",
            "value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            "key.converter.schema.registry.url": "http://registry:8081",
            "value.converter.schema.registry.url": "http://registry:8081",
        ]
        for (key, value) in noOps {
            let config = try ConnectorConfig(["topics": "t", key: value], definition: definition)
            XCTAssertEqual(config.ignoredKeys, [key], key)
            XCTAssertNil(config.properties[key], "\(key) must not reach the connector")
            XCTAssertEqual(config.ignoredKeyNotices.count, 1, key)
            XCTAssertTrue(config.ignoredKeyNotices[0].hasPrefix("ignoring '\(key)': "), config.ignoredKeyNotices[0])
        }
        // All at once: one notice per key, in key order.
        let all = try ConnectorConfig(noOps.merging(["topics": "t"]) { a, _ in a }, definition: definition)
        XCTAssertEqual(all.ignoredKeys, noOps.keys.sorted())
        XCTAssertEqual(all.ignoredKeyNotices.count, noOps.count)
    }

    func testKeysThatChangeBehaviourStayErrors() {
        let cases: [(name: String, key: String, value: String)] = [
            ("transforms", "transforms", "unwrap"),
            ("transform option", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState"),
            ("predicates", "predicates", "isTombstone"),
            ("header converter", "header.converter", "org.apache.kafka.connect.storage.SimpleHeaderConverter"),
            ("config reload", "config.action.reload", "none"),
            ("converter cache size", "value.converter.schemas.cache.size", "10"),
            ("converter decimal format", "value.converter.decimal.format", "NUMERIC"),
            ("replace null with default", "value.converter.replace.null.with.default", "false"),
            ("topic creation", "topic.creation.default.partitions", "3"),
            ("bare star suffix is not a prefix match", "subject.name.strategy.x", "y"),
            ("nothing before the suffix", ".subject.name.strategy", "y"),
            ("a transform's subject strategy", "transforms.x.value.subject.name.strategy", "y"),
            ("converter without a subject", "value.converter.subject.name.strategy", "y"),
        ]
        for c in cases {
            XCTAssertThrowsError(try ConnectorConfig(["topics": "t", c.key: c.value], definition: definition), c.name) { error in
                guard case .config(let key, let reason)? = error as? PipelineError else { return XCTFail("\(c.name): \(error)") }
                XCTAssertEqual(key, c.key, c.name)
                XCTAssertTrue(reason.hasPrefix("unknown or unsupported key"), "\(c.name): \(reason)")
            }
        }
    }

    // MARK: - Config: values

    func testBadValuesNameTheKey() {
        let cases: [(name: String, properties: [String: String], key: String, reason: String)] = [
            ("int above Int32.max", ["flush.size": "2147483648"], "flush.size", "out of range"),
            ("int far above Int32.max", ["flush.size": "9223372036854775807"], "flush.size", "out of range"),
            ("int below Int32.min", ["flush.size": "-2147483649"], "flush.size", "out of range"),
            ("int beyond Int64", ["flush.size": "99999999999999999999"], "flush.size", "expected an integer"),
            ("long beyond Int64", ["rotate.interval.ms": "9223372036854775808"], "rotate.interval.ms", "expected a 64-bit integer"),
            ("int with a unit", ["flush.size": "10k"], "flush.size", "expected an integer"),
            ("boolean spelled yes", ["errors.log.enable": "yes"], "errors.log.enable", "expected true or false"),
            ("tolerance spelled some", ["errors.tolerance": "some"], "errors.tolerance", "use one of: none, all"),
            ("Protobuf converter", ["value.converter": "io.confluent.connect.protobuf.ProtobufConverter"], "value.converter", "is not supported"),
            ("missing required", ["topics": ""], "topics", "missing required key"),
            ("unset environment variable", ["flush.size": "${env:TRIBUTARY_SURELY_UNSET_VARIABLE}"], "flush.size", "is not set"),
            ("unterminated reference", ["flush.size": "${env:X"], "flush.size", "unterminated"),
        ]
        for c in cases {
            XCTAssertThrowsError(try ConnectorConfig(["topics": "t"].merging(c.properties) { _, new in new }, definition: definition, environment: [:]), c.name) { error in
                guard case .config(let key, let reason)? = error as? PipelineError else { return XCTFail("\(c.name): \(error)") }
                XCTAssertEqual(key, c.key, c.name)
                XCTAssertTrue(reason.contains(c.reason), "\(c.name): \(reason)")
            }
        }
        // The edges themselves are fine.
        XCTAssertEqual(try ConnectorConfig(["topics": "t", "flush.size": "2147483647"], definition: definition).int("flush.size"), 2_147_483_647)
    }

    // MARK: - Records: bytes a converter must refuse

    func testInvalidUTF8IsADecodeErrorNotAReplacement() {
        let converter = JsonConverter(schemasEnabled: true)
        func envelope(_ stringBytes: [UInt8]) -> [UInt8] {
            Array(#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"name"}],"optional":false},"payload":{"name":""#.utf8)
                + stringBytes + Array(#""}}"#.utf8)
        }
        let cases: [(name: String, bytes: [UInt8])] = [
            ("ff fe c0", [0xFF, 0xFE, 0xC0]),
            ("lone continuation byte", [0x61, 0x80, 0x62]),
            ("truncated two-byte sequence", [0x61, 0xC3]),
            ("overlong slash", [0xC0, 0xAF]),
            ("UTF-16 surrogate as UTF-8", [0xED, 0xA0, 0x80]),
            ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("after an escape", Array(#"a\n"#.utf8) + [0xFF]),
        ]
        for c in cases {
            let message = KafkaMessage(topic: "P_USERS", partition: 1, offset: 7, key: nil, value: envelope(c.bytes))
            XCTAssertThrowsError(try Record(decoding: message, keyConverter: converter, valueConverter: converter), c.name) { error in
                XCTAssertTrue("\(error)".hasPrefix("bad message at P_USERS-1@7:"), "\(c.name): \(error)")
                XCTAssertTrue("\(error)".contains("invalid UTF-8"), "\(c.name): \(error)")
            }
            // In a member name too.
            let badKey = Array(#"{"a"#.utf8) + c.bytes + Array(#"":1}"#.utf8)
            XCTAssertThrowsError(try JSON.parse(badKey), c.name)
        }
        // Valid multi-byte text still decodes, escaped or not.
        for text in ["Zoë", "東京", "🙂", #"tab\tZoë"#] {
            let value = try? converter.decode(envelope(Array(text.utf8)))
            XCTAssertNotNil(value, text)
        }
        XCTAssertEqual(try JSON.parse(Array(#""\u00e9\ud83d\ude42""#.utf8)), .string("é🙂"))
    }

    func testMalformedEnvelopesNameTheMessage() {
        let converter = JsonConverter(schemasEnabled: true)
        let cases: [(name: String, value: String, reason: String)] = [
            ("truncated", #"{"schema":{"type":"int32","optional":false},"payload":"#, "invalid JSON"),
            ("trailing bytes", #"{"schema":{"type":"int32","optional":false},"payload":1} x"#, "trailing"),
            ("no envelope", #"{"id":1}"#, "schemas.enable"),
            ("int32 overflow", #"{"schema":{"type":"int32","optional":false},"payload":2147483648}"#, "payload"),
            ("string for int", #"{"schema":{"type":"int64","optional":false},"payload":"1"}"#, "payload"),
            ("bad base64 bytes", #"{"schema":{"type":"bytes","optional":false},"payload":"***"}"#, "payload"),
            ("unknown schema type", #"{"schema":{"type":"uint64","optional":false},"payload":1}"#, "schema"),
            ("control character", "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"a\u{01}b\"}", "control character"),
            ("unpaired surrogate", #"{"schema":{"type":"string","optional":false},"payload":"\ud800"}"#, "surrogate"),
            ("Date beyond int32 (was truncated)", #"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":4294967301}"#, "does not fit int32"),
            ("Time beyond a day", #"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":86400001}"#, "between 0 and 86400000"),
            ("negative Time", #"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":-1}"#, "between 0 and 86400000"),
            ("Time beyond int32 (was truncated)", #"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":4294967296}"#, "between 0 and 86400000"),
            ("deep nesting", String(repeating: "[", count: 600) + String(repeating: "]", count: 600), "nested too deeply"),
        ]
        for c in cases {
            let message = KafkaMessage(topic: "t", partition: 0, offset: 3, key: nil, value: Array(c.value.utf8))
            XCTAssertThrowsError(try Record(decoding: message, keyConverter: converter, valueConverter: converter), c.name) { error in
                XCTAssertTrue("\(error)".hasPrefix("bad message at t-0@3:"), "\(c.name): \(error)")
                XCTAssertTrue("\(error)".contains(c.reason), "\(c.name): \(error)")
            }
        }
    }

    // MARK: - Dead letters larger than the broker takes

    func testOversizedDeadLettersAreCutToFitWithTheirSizesInHeaders() async throws {
        let kafka = try TestEnvironment.kafka()
        let producer = try KafkaProducer(configuration: kafka)
        let topic = TestEnvironment.unique("dlq-big")
        let queue = DeadLetterQueue(topic: topic, connectorName: "corpus", producer: producer)
        let cases: [(name: String, message: KafkaMessage, keyCut: Bool, valueCut: Bool, headersDropped: Bool)] = [
            ("1 MB key", KafkaMessage(topic: "src", partition: 2, offset: 40, key: Array(repeating: 0x6B, count: 1 << 20), value: Array("v".utf8)), true, false, false),
            ("1 MB value", KafkaMessage(topic: "src", partition: 2, offset: 41, key: Array("k".utf8), value: Array(repeating: 0x76, count: 1 << 20)), false, true, false),
            ("both 1 MB", KafkaMessage(topic: "src", partition: 2, offset: 42, key: Array(repeating: 0x6B, count: 1 << 20), value: Array(repeating: 0x76, count: 1 << 20)), true, true, false),
            ("1 MB header", KafkaMessage(topic: "src", partition: 2, offset: 43, key: nil, value: Array("v".utf8), headers: [Header("h", Array(repeating: 0x68, count: 1 << 20))]), false, false, true),
            ("small record untouched", KafkaMessage(topic: "src", partition: 2, offset: 44, key: Array("k".utf8), value: Array("v".utf8), headers: [Header("h", text: "x")]), false, false, false),
        ]
        for c in cases {
            let letter = queue.deadLetter(for: c.message, error: PipelineError.badMessage(position: c.message.position, reason: "bad"), stage: "VALUE_CONVERTER")
            let total = (letter.key?.count ?? 0) + (letter.value?.count ?? 0) + letter.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
            XCTAssertLessThan(total, DeadLetterQueue.defaultMaxRecordBytes - 512, c.name)
            func header(_ name: String) -> String? { letter.headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) } }
            XCTAssertEqual(header(DeadLetterQueue.truncatedKeyHeader), c.keyCut ? String(c.message.key!.count) : nil, c.name)
            XCTAssertEqual(header(DeadLetterQueue.truncatedValueHeader), c.valueCut ? String(c.message.value!.count) : nil, c.name)
            XCTAssertEqual(header(DeadLetterQueue.droppedHeadersHeader) != nil, c.headersDropped, c.name)
            XCTAssertEqual(header("__connect.errors.offset"), String(c.message.offset), c.name)
            XCTAssertEqual(header("__connect.errors.partition"), "2", c.name)
            if !c.keyCut { XCTAssertEqual(letter.key, c.message.key, c.name) } else { XCTAssertEqual(letter.key, Array(c.message.key!.prefix(letter.key!.count)), c.name) }
            if !c.valueCut { XCTAssertEqual(letter.value, c.message.value, c.name) }
            if !c.headersDropped { XCTAssertEqual(Array(letter.headers.prefix(c.message.headers.count)), c.message.headers, c.name) }
        }
        // And the broker takes every one of them.
        try await queue.send(cases.map { (message: $0.message, error: PipelineError.other("bad") as Error) }, stage: "VALUE_CONVERTER")
        let consumer = try KafkaConsumer(configuration: try TestEnvironment.consumerKafka().with(["auto.offset.reset": "earliest"]), groupID: TestEnvironment.unique("g"), topics: [topic])
        let letters = try await consumer.drain(count: cases.count)
        await consumer.close()
        await producer.close()
        XCTAssertEqual(Set(letters.compactMap { m in m.headers.first { $0.key == "__connect.errors.offset" }?.value.map { String(decoding: $0, as: UTF8.self) } }), ["40", "41", "42", "43", "44"])
    }

    func testTheDeadLetterLimitFollowsTheProducersMessageMaxBytes() {
        XCTAssertEqual(DeadLetterQueue.maxRecordBytes(for: KafkaConfiguration(bootstrapServers: "b")), 1_000_000)
        XCTAssertEqual(DeadLetterQueue.maxRecordBytes(for: KafkaConfiguration(bootstrapServers: "b", properties: ["message.max.bytes": "5000000"])), 5_000_000)
    }

    func testADeadLetterTheBrokerRefusesNamesTheOriginalRecord() async throws {
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka())
        // A limit above the producer's own message.max.bytes: nothing is cut, so the send fails.
        let queue = DeadLetterQueue(topic: TestEnvironment.unique("dlq-refused"), connectorName: "corpus", producer: producer, maxRecordBytes: 8 << 20)
        let message = KafkaMessage(topic: "src", partition: 1, offset: 99, key: Array(repeating: 0x6B, count: 2 << 20), value: nil)
        do {
            try await queue.send([(message: message, error: PipelineError.other("bad"))], stage: "TASK_PUT")
            XCTFail("a 2 MB dead letter was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("src-1@99"), "\(error)")
        }
        await producer.close()
    }

    // MARK: - Topic names a real cluster refuses

    func testTopicNamesKafkaRefusesAreNamed() {
        let cases: [(name: String, topic: String, problem: String?)] = [
            ("plain", "P_USERS", nil),
            ("dots and dashes", "app.events-v2", nil),
            ("249 characters", String(repeating: "a", count: 249), nil),
            ("250 characters", String(repeating: "a", count: 250), "250 characters long"),
            ("empty", "", "cannot be empty"),
            ("dot", ".", "not a legal topic name"),
            ("dot dot", "..", "not a legal topic name"),
            ("space from a table name", "P_order items", "contains ' '"),
            ("slash", "P_a/b", "contains '/'"),
            ("quote", "P_a\"b", "contains '\\\"'"),
            ("non-ASCII", "P_Zoë", "contains '\\u{00EB}'"),
            ("control character", "P_\u{1B}", "contains '\\u{1B}'"),
        ]
        for c in cases {
            let problem = TopicName.problem(c.topic)
            if let expected = c.problem {
                XCTAssertTrue(problem?.contains(expected) == true, "\(c.name): \(problem ?? "accepted")")
            } else {
                XCTAssertNil(problem, c.name)
            }
        }
    }
}
