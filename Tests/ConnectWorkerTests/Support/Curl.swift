import Foundation
import PipelineCore

/// The real `curl` binary, as an operator drives Connect's REST API. Waits
/// for the child through its termination handler, never blocking a thread
/// of Swift's cooperative pool (the server under test runs on it too).
struct Curl: Sendable {
    let base: String
    var user: String?
    /// More curl options, e.g. `--cacert FILE`.
    var options: [String] = []

    struct Reply: Sendable, CustomStringConvertible {
        var status: Int
        var text: String
        var json: JSON? { try? JSON.parse(text) }
        var description: String { "\(status) \(text)" }
    }

    /// `method path` with `body` (sent as given, so malformed JSON can be sent too).
    func callAsFunction(_ method: String, _ path: String, _ body: String? = nil) async throws -> Reply {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var arguments = ["-s", "-o", output.path, "-w", "%{http_code}", "-X", method, "-H", "Content-Type: application/json"]
        if let user { arguments += ["-u", user] }
        arguments += options
        if body != nil { arguments += ["--data-binary", "@-"] }
        arguments.append(base + path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        let done = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.continuation.finish() }
        try process.run()
        stdin.fileHandleForWriting.write(Data((body ?? "").utf8))
        try stdin.fileHandleForWriting.close()
        for await _ in done.stream {}
        let code = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0, let status = Int(code) else {
            throw CurlFailure(description: "curl \(method) \(path) failed (exit \(process.terminationStatus), output '\(code)')")
        }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return Reply(status: status, text: text)
    }
}

struct CurlFailure: Error, CustomStringConvertible {
    var description: String
}
