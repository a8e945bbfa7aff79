import PipelineCore
import XCTest

@testable import Console

/// How keys, values and headers are shown, and what is masked.
final class RenderingTests: XCTestCase {
    func testConnectEnvelopesShowSchemaAndPayloadOtherJSONIsPrettyTextAsIsBinaryAsHex() {
        let envelope = RenderedBytes(Array(#"{"schema":{"type":"int32","optional":false},"payload":7}"#.utf8))
        XCTAssertEqual(envelope.kind, .envelope)
        XCTAssertEqual(envelope.text, "7")
        XCTAssertEqual(envelope.schema, "{\n  \"type\": \"int32\",\n  \"optional\": false\n}")
        XCTAssertEqual(RenderedBytes(Array(#"{"a":[1,2]}"#.utf8)), RenderedBytes(kind: .json, text: "{\n  \"a\": [\n    1,\n    2\n  ]\n}"))
        XCTAssertEqual(RenderedBytes(Array("plain <b>text</b>".utf8)), RenderedBytes(kind: .text, text: "plain <b>text</b>"))
        XCTAssertEqual(RenderedBytes([0xFF, 0x00, 0x41]), RenderedBytes(kind: .binary, text: "ff 00 41"))
        XCTAssertEqual(RenderedBytes(nil).kind, .null)
    }

    func testControlCharactersAreMadeVisible() {
        XCTAssertEqual(RenderedBytes(Array("a\u{0}b\u{1b}[31mc\nd".utf8)).text, "a\\u{0}b\\u{1b}[31mc\nd")
    }

    func testSecretsAreMaskedButPlaceholdersShow() {
        XCTAssertEqual(SecretMasking.display(key: "connection.password", value: "hunter2"), SecretMasking.mask)
        XCTAssertEqual(SecretMasking.display(key: "aws.secret.access.key", value: "abc"), SecretMasking.mask)
        XCTAssertEqual(SecretMasking.display(key: "connection.password", value: "${env:PG_PASSWORD}"), "${env:PG_PASSWORD}")
        XCTAssertEqual(
            SecretMasking.display(key: "connection.url", value: "mysql://app:hunter2@db:3306/x"), "mysql://app:\(SecretMasking.mask)@db:3306/x")
        XCTAssertEqual(
            SecretMasking.display(key: "connection.url", value: "jdbc:postgresql://db/x?user=a&password=hunter2&ssl=true"),
            "jdbc:postgresql://db/x?user=a&password=\(SecretMasking.mask)&ssl=true")
        XCTAssertEqual(SecretMasking.display(key: "topics", value: "P_USERS"), "P_USERS")
    }

    func testDeadLetterHeadersAreLaidOutApart() {
        let message = KafkaMessage(
            topic: "dlq", partition: 0, offset: 5, key: nil, value: Array("x".utf8),
            headers: [Header("__connect.errors.exception.message", Array("bad <value>".utf8)), Header("trace-id", Array("abc".utf8))],
            timestamp: 1_700_000_000_123)
        let row = MessageRow(message)
        XCTAssertEqual(row.errorHeaders.map(\.name), ["exception.message"])
        XCTAssertEqual(row.errorHeaders.first?.value, "bad <value>")
        XCTAssertEqual(row.headers.map(\.name), ["trace-id"])
        XCTAssertEqual(row.timestamp, "2023-11-14T22:13:20.123Z")
    }

    func testPathsAreDecodedPerSegmentAndNamesEncodedForLinks() {
        XCTAssertEqual(Console.segments(of: "/ui"), [])
        XCTAssertEqual(Console.segments(of: "/ui/topics/a%2Fb/messages"), ["topics", "a/b", "messages"])
        XCTAssertNil(Console.segments(of: "/connectors"))
        XCTAssertEqual(Console.percentEncoded("<script>\"x'/"), "%3Cscript%3E%22x%27%2F")
    }
}

/// Pages rendered from a real broker, hostile data included.
final class ConsolePagesTests: XCTestCase {
    func testHostileKeysHeadersAndPayloadsShowAsEscapedText() async throws {
        guard let bootstrap = ProcessInfo.processInfo.environment["TRIBUTARY_BOOTSTRAP"] else {
            throw XCTSkip("TRIBUTARY_BOOTSTRAP is not set: run scripts/test.sh (it starts the broker)")
        }
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let topic = "console-hostile-\(UUID().uuidString.prefix(8))"
        let admin = try KafkaAdmin(configuration: kafka)
        _ = try await admin.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send([
            KafkaMessage(
                topic: topic, partition: 0, key: Array("<script>alert('key')</script>".utf8),
                value: Array("</textarea><script>alert(\"value\")</script>\u{0}end".utf8),
                headers: [Header("x\"><img src=x onerror=alert(1)>", Array("<b>header</b>".utf8))]),
            KafkaMessage(topic: topic, partition: 0, key: Array("bin".utf8), value: [0xC3, 0x28, 0x00, 0xFF]),
            KafkaMessage(topic: topic, partition: 0, key: Array("json".utf8), value: Array(#"{"html":"<script>x</script>"}"#.utf8)),
        ])
        await producer.close()

        let console = try Console(kafka: kafka)
        let response = await console.respond(to: ConsoleRequest(method: "GET", path: "/ui/topics/\(topic)/messages", query: [("partition", "0")]))
        XCTAssertEqual(response.status, 200)
        let html = String(decoding: response.body, as: UTF8.self)
        XCTAssertFalse(html.contains("<script>alert"), "no data becomes a script")
        XCTAssertFalse(html.contains("<img src=x"), "no data becomes an element")
        XCTAssertFalse(html.contains("</textarea><script>"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;key&#39;)&lt;/script&gt;"), "the key shows as text")
        XCTAssertTrue(html.contains("&lt;/textarea&gt;&lt;script&gt;alert(&quot;value&quot;)&lt;/script&gt;\\u{0}end"), "the value too, NUL visible")
        XCTAssertTrue(html.contains("x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "the header name too")
        XCTAssertTrue(html.contains("c3 28 00 ff"), "invalid UTF-8 as hex")
        XCTAssertTrue(html.contains("&quot;html&quot;: &quot;&lt;script&gt;x&lt;/script&gt;&quot;"), "JSON pretty-printed and escaped")
        XCTAssertEqual(html.components(separatedBy: "<script>").count - 1, 0, "a console without connectors has no script at all")

        let overview = String(decoding: await console.respond(to: ConsoleRequest(method: "GET", path: "/ui")).body, as: UTF8.self)
        XCTAssertTrue(overview.contains(">\(topic)</a>"), "the overview lists the topic")
        let topicPage = await console.respond(to: ConsoleRequest(method: "GET", path: "/ui/topics/\(topic)"))
        XCTAssertEqual(topicPage.status, 200)
        XCTAssertTrue(String(decoding: topicPage.body, as: UTF8.self).contains("<td class=\"num\">3</td>"), "3 records in partition 0")
        let missing = await console.respond(to: ConsoleRequest(method: "GET", path: "/ui/topics/no-such-topic-\(UUID().uuidString)"))
        XCTAssertEqual(missing.status, 404)
        let post = await console.respond(to: ConsoleRequest(method: "POST", path: "/ui"))
        XCTAssertEqual(post.status, 405, "the console changes nothing")
    }
}

final class TemplateContextTests: XCTestCase {
    /// Mustache opens a section for a nil stored as `Any` (and prints "nil"): such keys are left out.
    func testNilOptionalsAreLeftOutAtEveryDepth() {
        let none: String? = nil
        let cleaned = Console.withoutNils(["a": none as Any, "b": "x", "rows": [["c": none as Any, "d": 1]], "e": Optional("y") as Any])
        XCTAssertNil(cleaned["a"])
        XCTAssertEqual(cleaned["b"] as? String, "x")
        XCTAssertEqual(cleaned["e"] as? String, "y")
        let rows = cleaned["rows"] as? [[String: Any]]
        XCTAssertEqual(rows?.count, 1)
        XCTAssertNil(rows?.first?["c"])
        XCTAssertEqual(rows?.first?["d"] as? Int, 1)
    }
}
