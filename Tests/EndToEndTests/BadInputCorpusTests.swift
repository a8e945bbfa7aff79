import Foundation
import PipelineCore
import XCTest

/// Bad command-line use of the built `tributary` binary and the example
/// programs: each case asserts the exit status (1 failure, 64 usage) and a
/// one-line error naming the file, key or option at fault.
final class BadInputCorpusTests: XCTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` (next to the test bundle) to completion, bounded.
    func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try E2EEnvironment.locateTributary())
            .deletingLastPathComponent().appendingPathComponent(executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read while it runs: a full pipe would block the child.
        let stdout = Locked(Data()), stderr = Locked(Data())
        let readers = [(out, stdout), (err, stderr)].map { pipe, sink in
            Thread { sink.withLock { $0 = pipe.fileHandleForReading.readDataToEndOfFile() } }
        }
        readers.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            throw E2EFailure("\(executable) \(arguments) did not finish in 60 s")
        }
        process.waitUntilExit()
        while readers.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.01) }
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout.value, as: UTF8.self),
            stderr: String(decoding: stderr.value, as: UTF8.self))
    }

    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let s3Config = #"{"connector.class":"io.confluent.connect.s3.S3SinkConnector","topics":"t","s3.bucket.name":"b","format.class":"io.confluent.connect.s3.format.json.JsonFormat","#

    func testBadCommandLinesFailWithOneLineNamingTheCulprit() throws {
        let bootstrap = try XCTUnwrap(ProcessEnvironment.get("TRIBUTARY_BOOTSTRAP"), "TRIBUTARY_BOOTSTRAP")
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files: [String: String] = [
            "a.json": #"{"name":"a","config":"# + Self.s3Config + #""flush.size":"2147483648"}}"#,
            "b.json": #"{"name":"a","config":"# + Self.s3Config + #""flush.size":"5"}}"#,
            "typo.json": Self.s3Config + #""flush.sise":"5"}"#,
            "broken.json": #"{"name":"x","config":{"#,
            "array.json": "[1, 2]",
            "nested.json": #"{"name":"n","config":{"topics":["t"]}}"#,
            "class.json": #"{"name":"c","config":{"connector.class":"io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"}}"#,
            "pg.json": #"{"name":"p","config":{"connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","connection.url":"jdbc:postgresql://h/db","mode":"sometimes"}}"#,
            "mysql.json": #"{"topics":"t","connection.url":"jdbc:mysql://h:3306/db","batch.sise":"5"}"#,
            "bad.properties": "bootstrap.servers=x\nthis line has no separator\n",
            "typo.properties": "bootstrap.servers=x\noffset.flush.intervall.ms=5\n",
        ]
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("conf.d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("alias.json"), withDestinationURL: dir.appendingPathComponent("b.json"))
        let broker = ["--bootstrap-servers", bootstrap]
        let cases: [(name: String, arguments: [String], status: Int32, message: [String])] = [
            ("missing file", ["run", "nope.json"] + broker, 1, ["nope.json: no such file"]),
            ("directory as a file", ["run", "conf.d"] + broker, 1, ["conf.d: is a directory"]),
            ("same file twice", ["run", "b.json", "b.json"] + broker, 1, ["b.json: given twice"]),
            ("same file through a symlink", ["run", "b.json", "alias.json"] + broker, 1, ["alias.json: given twice (also as b.json)"]),
            ("two connectors, one name", ["run", "b.json", "a.json"] + broker, 1, ["a.json: connector name 'a' is already used by b.json"]),
            ("int key beyond Int32", ["run", "a.json"] + broker, 1, ["a.json: configuration error for 'flush.size'", "out of range"]),
            ("typo in a key", ["run", "typo.json"] + broker, 1, ["typo.json: configuration error for 'flush.sise'", "did you mean 'flush.size'"]),
            ("truncated JSON", ["run", "broken.json"] + broker, 1, ["broken.json: ", "invalid JSON"]),
            ("JSON array", ["run", "array.json"] + broker, 1, ["array.json: ", "must be a JSON object"]),
            ("non-string value", ["run", "nested.json"] + broker, 1, ["nested.json: configuration error for 'topics'"]),
            ("unsupported connector class", ["run", "class.json"] + broker, 1, ["class.json: configuration error for 'connector.class'"]),
            ("bad source mode", ["run", "pg.json"] + broker, 1, ["pg.json: configuration error for 'mode'"]),
            ("missing worker file", ["run", "b.json", "--worker", "nope.properties"] + broker, 1, ["nope.properties: no such file"]),
            ("worker line without =", ["run", "b.json", "--worker", "bad.properties"] + broker, 1, ["bad.properties: ", "expected key=value"]),
            ("worker key typo", ["run", "b.json", "--worker", "typo.properties"] + broker, 1, ["typo.properties: configuration error for 'offset.flush.intervall.ms'"]),
            ("sink s3: missing file", ["sink", "s3", "nope.json"] + broker, 1, ["nope.json: no such file"]),
            ("sink s3: directory", ["sink", "s3", "conf.d"] + broker, 1, ["conf.d: is a directory"]),
            ("sink mysql: bad key in the file", ["sink", "mysql", "mysql.json"] + broker, 1, ["mysql.json: configuration error for 'batch.sise'", "did you mean 'batch.size'"]),
            ("source postgres: bad mode in the file", ["source", "postgres", "pg.json"] + broker, 1, ["pg.json: configuration error for 'mode'"]),
            ("generate --rows=-5", ["generate", "--rows=-5"], 64, ["--rows must not be negative"]),
            ("generate --rate 0", ["generate", "--rate", "0"], 64, ["--rate must be a positive number"]),
            ("generate --rate -3", ["generate", "--rate=-3"], 64, ["--rate must be a positive number"]),
            ("generate --rate nan", ["generate", "--rate", "nan"], 64, ["--rate must be a positive number"]),
            ("generate --batch-size 0", ["generate", "--batch-size", "0"], 64, ["--batch-size must be at least 1"]),
            ("generate --updates 2", ["generate", "--updates", "2"], 64, ["--updates must be between 0 and 1"]),
            ("generate --rows ten", ["generate", "--rows", "ten"], 64, ["rows"]),
        ]
        for c in cases {
            let outcome = try run("tributary", c.arguments, in: dir)
            XCTAssertEqual(outcome.status, c.status, "\(c.name): \(outcome.stderr)")
            let firstLine = outcome.stderr.split(separator: "\n").first.map(String.init) ?? ""
            for part in c.message {
                XCTAssertTrue(firstLine.contains(part), "\(c.name): '\(part)' not in the first line: \(outcome.stderr)")
            }
            // No Foundation error dump (NSCocoaErrorDomain, NSFilePath, UserInfo...).
            XCTAssertFalse(outcome.stderr.contains("Domain=") || outcome.stderr.contains("UserInfo"), "\(c.name): \(outcome.stderr)")
        }
    }

    func testExamplesAnswerHelpWithTheirUsage() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        for example in ["GenerateUsers", "StreamTableToKafka", "MirrorTopicToMySQL", "ArchiveTopicToS3"] {
            for flag in ["--help", "-h"] {
                let outcome = try run(example, [flag], in: dir)
                XCTAssertEqual(outcome.status, 0, "\(example) \(flag): \(outcome.stderr)")
                XCTAssertTrue(outcome.stdout.hasPrefix("usage: \(example)"), "\(example) \(flag): \(outcome.stdout)")
            }
            let unknown = try run(example, ["--frobnicate", "1"], in: dir)
            XCTAssertEqual(unknown.status, 2, "\(example): \(unknown.stderr)")
            XCTAssertTrue(unknown.stderr.contains("unknown option --frobnicate"), "\(example): \(unknown.stderr)")
        }
    }

    /// Record bytes must not reach the terminal raw, and tailing a topic from
    /// the beginning prints records only (no notice per partition).
    func testTailEscapesControlCharactersAndPrintsOnlyRecords() async throws {
        let bootstrap = try XCTUnwrap(ProcessEnvironment.get("TRIBUTARY_BOOTSTRAP"), "TRIBUTARY_BOOTSTRAP")
        let topic = "tail-escapes-\(UUID().uuidString.prefix(8))"
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap))
        let payloads: [[UInt8]] = [
            Array("\u{1B}]0;pwned\u{07}\u{1B}[2J".utf8),  // set the title, clear the screen
            Array("line\nbreak\ttab".utf8),
            [0xC2, 0x9B] + Array("31m".utf8),  // C1 CSI
            Array(#"{"schema":{"type":"string","optional":false},"payload":"\u001b[31mred\u007f"}"#.utf8),
        ]
        _ = try await producer.send(payloads.map { KafkaMessage(topic: topic, partition: 0, key: [0x1B, 0x63], value: $0) })
        await producer.close()
        let outcome = try run(
            "tributary", ["tail", topic, "--from-beginning", "--max", "\(payloads.count)", "--idle-timeout", "20", "--bootstrap-servers", bootstrap],
            in: try scratch())
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, payloads.count, outcome.stdout)
        XCTAssertFalse(outcome.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x7F || $0.value == 0x09 }, outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains(#"\u{1B}]0;pwned\u{7}\u{1B}[2J"#), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains(#"line\u{A}break\u{9}tab"#), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains(#"\u{9B}31m"#), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains(#"red\u{7F}"#), outcome.stdout)
        XCTAssertFalse(outcome.stdout.contains("no committed offset") || outcome.stderr.contains("no committed offset"), outcome.stdout + outcome.stderr)
    }
}
