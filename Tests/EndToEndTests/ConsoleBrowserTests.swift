import Foundation
import PipelineCore
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The web console and `/metrics` of a running `tributary connect`, in a
/// real browser (headless Chromium over its DevTools protocol,
/// Support/browser.py): every page loads and says what it should, hostile
/// data shows as text and runs nothing, the connector buttons work through
/// the REST API, and the metrics rise as rows flow (parsed by Python's
/// prometheus_client). Screenshots go to a temporary directory, or to
/// `TRIBUTARY_SCREENSHOT_DIR` when set (`docs/screenshots`, for the README):
/// a test run leaves the checkout as it found it.
final class ConsoleBrowserTests: XCTestCase {
    static let rows = 400

    func testEveryPageLoadsHostileDataStaysTextButtonsWorkAndMetricsRise() async throws {
        let run = try await PipelineRun(label: "console")
        run.writers.spread = .seconds(3)
        var passed = false
        defer { run.worker.killIfRunning() }
        let screenshots = ProcessInfo.processInfo.environment["TRIBUTARY_SCREENSHOT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("console-screenshots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        do {
            try run.worker.start(connect: true)
            let base = try await run.worker.restBase()
            let names = try await ConnectCommandTests.putSeedConnectors(run, base: base)
            let s3SinkName = names.first { $0.hasPrefix("s3-sink") }!
            let hostileTopic = try await produceHostileMessages(run)
            _ = try await run.writers.write(rows: Self.rows / 2)
            try await run.eventually("MySQL to get rows", within: 120, every: .milliseconds(200), status: run.progress) {
                try await run.mysql.count() > 0
            }
            let firstScrape = try await scrape(base)

            // Overview: brokers, topics with counts, groups, connectors with their state.
            let overview = try await Browser.dom("\(base)/ui", screenshot: screenshots.appendingPathComponent("overview.png"))
            XCTAssertTrue(overview.contains(">\(run.scenario.topic)</a>"), "the pipeline's topic is listed")
            XCTAssertTrue(overview.contains(">\(hostileTopic)</a>"))
            for name in [run.scenario.mysqlSinkName, s3SinkName] {
                XCTAssertTrue(overview.contains(">\(name)</a>"), "connector \(name) is listed")
                XCTAssertTrue(overview.contains(">connect-\(name)</a>"), "its group is listed")
            }
            XCTAssertTrue(overview.contains(#"class="state-RUNNING">RUNNING<"#))
            XCTAssertTrue(overview.contains("<h2>Brokers</h2>"))

            // A topic: watermarks, and the groups reading it with their lag.
            let topic = try await Browser.dom("\(base)/ui/topics/\(run.scenario.topic)")
            XCTAssertTrue(topic.contains("connect-\(run.scenario.mysqlSinkName)</a>: lag"), "the MySQL sink's group reads it")

            // Messages of the pipeline's topic: Connect envelopes as schema and payload.
            let messages = try await Browser.dom("\(base)/ui/topics/\(run.scenario.topic)/messages?partition=0&count=5", screenshot: screenshots.appendingPathComponent("messages.png"))
            XCTAssertTrue(messages.contains(#"<span class="kind">envelope</span>"#), "the envelope is recognised")
            XCTAssertTrue(messages.contains(#"<pre class="schema">"#))

            // Hostile data: text, never markup or script (browser.py fails on any alert).
            let hostile = try await Browser.dom("\(base)/ui/topics/\(hostileTopic)/messages?partition=0")
            XCTAssertTrue(hostile.contains("&lt;script&gt;alert('key')&lt;/script&gt;"), "the key shows as text")
            XCTAssertTrue(hostile.contains("&lt;/textarea&gt;&lt;script&gt;alert(\"value\")&lt;/script&gt;\\u{0}end"), "the value too, NUL visible")
            XCTAssertTrue(hostile.contains("c3 28 00 ff"), "invalid UTF-8 as hex")
            XCTAssertTrue(hostile.contains("exception.message"), "dead-letter headers laid out")
            XCTAssertFalse(hostile.contains("<img src=\"x\""), "no data became an element")
            let filtered = try await Browser.dom("\(base)/ui/topics/\(hostileTopic)/messages?partition=0&key=bin")
            XCTAssertTrue(filtered.contains("c3 28 00 ff") && !filtered.contains("alert('key')"), "the key filter keeps only its record")

            // A group and a connector (config masked), then its buttons.
            let group = try await Browser.dom("\(base)/ui/groups/connect-\(run.scenario.mysqlSinkName)")
            XCTAssertTrue(group.contains("Committed offsets and lag"))
            let connectorURL = "\(base)/ui/connectors/\(s3SinkName)"
            let connector = try await Browser.dom(connectorURL, screenshot: screenshots.appendingPathComponent("connector.png"))
            XCTAssertTrue(connector.contains(#"<span id="state" class="state-RUNNING">RUNNING</span>"#))
            XCTAssertFalse(connector.contains("Last error"), "no error, no error section")
            _ = try await Browser.click(connectorURL, "button[data-action=pause]", wait: 2)
            try await expectState(base, s3SinkName, "PAUSED")
            let pausedPage = try await Browser.dom(connectorURL)
            XCTAssertTrue(pausedPage.contains(">PAUSED</span>"), "the page shows the new state")
            _ = try await Browser.click(connectorURL, "button[data-action=resume]", wait: 2)
            try await expectState(base, s3SinkName, "RUNNING")

            _ = try await run.writers.write(rows: Self.rows / 2)
            try await run.waitUntilDelivered(rows: Self.rows)
            let secondScrape = try await scrape(base)
            for name in [run.scenario.mysqlSinkName, s3SinkName, run.scenario.sourceName] {
                let key = "tributary_connector_records_written_total{connector=\(name),task=0}"
                XCTAssertGreaterThan(secondScrape[key] ?? 0, firstScrape[key] ?? 0, "\(key) rose as rows flowed")
            }
            let mysqlRead = "tributary_connector_records_read_total{connector=\(run.scenario.mysqlSinkName),task=0}"
            XCTAssertGreaterThanOrEqual(secondScrape[mysqlRead] ?? 0, Double(Self.rows))
            XCTAssertGreaterThan(secondScrape["process_resident_memory_bytes{}"] ?? 0, 0)
            XCTAssertNotNil(
                secondScrape.keys.first { $0.hasPrefix("tributary_sink_partition_lag{connector=\(run.scenario.mysqlSinkName),") },
                "a lag gauge per partition")

            try await run.stopGracefully()
            try await run.assertExactlyOnce(rows: Self.rows)
            passed = testRun?.totalFailureCount == 0
        } catch {
            await run.finish(passed: false)
            throw error
        }
        await run.finish(passed: passed)
    }

    /// `tributary ui`: the console for a cluster alone, `/` sending browsers
    /// to it, pages for topics, no connectors section; SIGTERM exits 0.
    func testTributaryUIServesTheClusterAlone() async throws {
        let run = try await PipelineRun(label: "ui")
        defer { run.worker.killIfRunning() }
        let topic = try await produceHostileMessages(run)
        try run.worker.start(ui: true)
        let base = try await run.worker.consoleBase()
        let root = try await ConnectCommandTests.curl(["\(base)/"])
        XCTAssertEqual(root.status, 302)
        let overview = try await Browser.dom("\(base)/ui")
        XCTAssertTrue(overview.contains(">\(topic)</a>"), "the topic is listed")
        XCTAssertFalse(overview.contains("id=\"connectors\""), "no connectors without a worker")
        let page = try await ConnectCommandTests.curl(["\(base)/ui/topics/\(topic)"])
        XCTAssertEqual(page.status, 200)
        let rest = try await ConnectCommandTests.curl(["\(base)/connectors"])
        XCTAssertEqual(rest.status, 404, "no REST API here")
        let ending = try await run.worker.stop(SIGTERM)
        XCTAssertEqual(ending, .exited(0))
        await run.finish(passed: testRun?.totalFailureCount == 0)
    }

    /// A topic of records whose key, value and headers are markup, with a
    /// NUL, invalid UTF-8 and dead-letter headers; returns its name.
    private func produceHostileMessages(_ run: PipelineRun) async throws -> String {
        let topic = "hostile-\(run.scenario.id.lowercased())"
        let kafka = KafkaConfiguration(bootstrapServers: run.environment.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        _ = try await producer.send([
            KafkaMessage(
                topic: topic, partition: 0, key: Array("<script>alert('key')</script>".utf8),
                value: Array("</textarea><script>alert(\"value\")</script>\u{0}end".utf8),
                headers: [
                    Header("x\"><img src=x onerror=alert(1)>", Array("<b>header</b>".utf8)),
                    Header("__connect.errors.exception.message", Array("<script>alert('dlq')</script>".utf8)),
                ]),
            KafkaMessage(topic: topic, partition: 0, key: Array("bin".utf8), value: [0xC3, 0x28, 0x00, 0xFF]),
        ])
        await producer.close()
        return topic
    }

    private func expectState(_ base: String, _ name: String, _ state: String) async throws {
        let deadline = Date().addingTimeInterval(30)
        var last = ""
        while Date() < deadline {
            last = try await ConnectCommandTests.curl(["\(base)/connectors/\(name)/status"]).text
            if (try? JSON.parse(last))?["connector"]?["state"]?.stringValue == state { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("\(name) never became \(state): \(last)")
    }

    /// `/metrics` parsed by prometheus_client: "name{label=value,…}" → value.
    private func scrape(_ base: String) async throws -> [String: Double] {
        let reply = try await ConnectCommandTests.curl(["\(base)/metrics"])
        XCTAssertEqual(reply.status, 200)
        return try await PrometheusSamples.parse(Array(reply.text.utf8))
    }
}

/// Support/browser.py: headless Chromium driven over the DevTools protocol.
enum Browser {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/browser.py").path

    /// The page's DOM once its scripts ran; with `screenshot`, also a PNG of it there.
    static func dom(_ url: String, screenshot: URL? = nil) async throws -> String {
        guard let screenshot else { return try await ChildProcess.run(["python3", script, "dom", url]) }
        try FileManager.default.createDirectory(at: screenshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        return try await ChildProcess.run(["python3", script, "screenshot", url, screenshot.path])
    }

    /// Clicks the element matching `selector`, waits, and returns the DOM.
    static func click(_ url: String, _ selector: String, wait: Double) async throws -> String {
        try await ChildProcess.run(["python3", script, "click", url, selector, String(wait)])
    }
}
