import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// JsonFormat writes each record's payload bytes as received (after
/// validating them) instead of decoding and re-encoding them. For our own
/// envelopes that must give exactly the objects re-encoding gave.
final class VerbatimPayloadTests: XCTestCase {
    static let schema = Schema.struct("MIXED", [
        Field("id", .int64), Field("text", Schema.string.asOptional), Field("score", Schema.float64.asOptional),
        Field("ratio", Schema.float32.asOptional), Field("flag", Schema.boolean.asOptional),
        Field("price", LogicalType.decimal(scale: 2, optional: true)), Field("born", LogicalType.date(optional: true)),
        Field("lunch", LogicalType.time(optional: true)), Field("at", LogicalType.timestamp(optional: true)),
        Field("blob", Schema.bytes.asOptional), Field("small", Schema.int16.asOptional),
    ])

    static let texts = ["plain", "ünïcødé 日本語 🎉", "quote \" back \\ tab \t nl \n", "", "\u{1}\u{1f}\u{7f}", "{\"json\":[1]}"]
    static let doubles: [Double] = [0.25, -0.0, 1e15, 0.1 + 0.2, .nan, .infinity, 123_456_789.125, 1e-7]

    static func value(_ i: Int64) -> SchemaAndValue {
        let n = Int(i)
        let null = i % 5 == 4
        return SchemaAndValue(schema: schema, value: .struct([
            NamedValue("id", .int(i)),
            NamedValue("text", null ? .null : .string(texts[n % texts.count])),
            NamedValue("score", null ? .null : .double(doubles[n % doubles.count])),
            NamedValue("ratio", .double(Double(n) / 8)),
            NamedValue("flag", null ? .null : .bool(i % 2 == 0)),
            NamedValue("price", null ? .null : .decimal(DecimalValue(unscaledInt: i * 1_234_567 - 50_000, scale: 2))),
            NamedValue("born", .date(Int32(n * 1000 - 719_528))),
            NamedValue("lunch", null ? .null : .time(Int32(n * 1_000_003 % 86_400_000))),
            NamedValue("at", .timestamp(1_700_000_000_123 - i * 86_400_000_123)),
            NamedValue("blob", null ? .null : .bytes((0..<UInt8(n % 7)).map { $0 &* 37 })),
            NamedValue("small", .int(Int64(n % 65536) - 32768)),
        ]))
    }

    func testOurEnvelopesGiveTheObjectsReencodingGave() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        for compression in [CompressionType.none, .gzip] {
            var config = env.sinkConfig("verbatim-\(compression)", flushSize: 40)
            config.compression = compression
            let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
            let messages = SinkFixtures.messages(topic: "mixed", offsets: 0..<40, value: Self.value)
            try await task.put(messages)
            let key = "\(config.naming.topicsDir)/mixed/partition=0/mixed+0+0000000000.json" + compression.fileExtension
            var body = try await client.getObject(bucket: env.bucket, key: key)
            if compression == .gzip { body = try gunzip(body) }
            // Today's output: every record decoded, then its payload re-encoded.
            var old: [UInt8] = []
            for message in messages {
                let record = try Record(decoding: message, keyConverter: JsonConverter(schemasEnabled: false), valueConverter: JsonConverter())
                old += try RecordFormat.json.encode(record, rawValue: nil)
            }
            XCTAssertEqual(body.count, old.count, "\(compression)")
            XCTAssertEqual(body, old, "\(compression)")
        }
    }

    /// What a payload written by Kafka Connect (Jackson) keeps that
    /// re-encoding changed: number spellings, escapes, spacing, member order
    /// and members the schema does not name. A line break (pretty-printed
    /// JSON) or a null payload is still re-encoded, so every record stays one line.
    func testConnectWrittenPayloadsAreKeptAsWritten() throws {
        let schema = #"{"type":"struct","fields":[{"type":"double","optional":true,"field":"x"},{"type":"string","optional":true,"field":"s"}],"optional":false}"#
        let converter = JsonConverter()
        let cases: [(payload: String, verbatim: Bool, reencoded: String)] = [
            (#"{"x":1.0E10,"s":"a"}"#, true, #"{"x":10000000000.0,"s":"a"}"#),
            (#"{"x":1,"s":"\u00e9\/"}"#, true, #"{"x":1.0,"s":"é/"}"#),
            (#"{ "s" : "a" , "x" : 2.5 , "extra" : [1] }"#, true, #"{"x":2.5,"s":"a"}"#),
            ("{\n  \"x\": 2.5,\n  \"s\": \"a\"\n}", false, #"{"x":2.5,"s":"a"}"#),
        ]
        for (payload, verbatim, reencoded) in cases {
            let bytes = Array((#"{"schema":"# + schema + #","payload":"# + payload + "}").utf8)
            let location = try XCTUnwrap(converter.locatePayload(bytes))
            let decoded = try converter.decode(bytes)
            let record = Record(topic: "t", partition: 0, offset: 0, key: nil, value: decoded)
            XCTAssertEqual(String(decoding: try RecordFormat.json.encode(record, rawValue: nil), as: UTF8.self), reencoded + "\n")
            XCTAssertEqual(RecordFormat.isVerbatim(bytes[location.range]), verbatim, payload)
            if verbatim {
                let written = try RecordFormat.json.encode(record, rawValue: bytes, payload: location.range)
                XCTAssertEqual(String(decoding: written, as: UTF8.self), payload + "\n")
            }
        }
        XCTAssertFalse(RecordFormat.isVerbatim(ArraySlice("null".utf8)))
    }

    func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verbatim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("o.gz")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return Array(data)
    }
}
