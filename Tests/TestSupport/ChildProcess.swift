import Foundation

/// Runs helper programs for tests (Python peers, curl, a headless browser).
///
/// Input and output go through files and the wait through the termination
/// handler, so no thread blocks on a pipe or on the child, and a chatty
/// standard error cannot fill a pipe and stall the child.
public enum ChildProcess {
    /// Why a child failed: the command, its exit status and its standard error.
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let standardError: String
        public var description: String { "\(command) exited \(status): \(standardError)" }
    }

    /// Runs `arguments` (looked up through /usr/bin/env) with `input` on its
    /// standard input; its standard output, or ``Failure`` when it exits non-zero.
    public static func run(_ arguments: [String], input: [UInt8] = []) async throws -> String {
        let directory = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let inFile = directory.appendingPathComponent("child-\(id).in"), outFile = directory.appendingPathComponent("child-\(id).out")
        let errFile = directory.appendingPathComponent("child-\(id).err")
        defer { for file in [inFile, outFile, errFile] { try? FileManager.default.removeItem(at: file) } }
        try Data(input).write(to: inFile)
        for file in [outFile, errFile] { try Data().write(to: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: inFile)
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        let done = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.continuation.finish() }
        try process.run()
        for await _ in done.stream {}
        guard process.terminationStatus == 0 else {
            throw Failure(
                command: arguments.prefix(3).joined(separator: " "), status: process.terminationStatus,
                standardError: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
        }
        return (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    }
}

/// A Prometheus text exposition as the official Python client parses it:
/// an independent reader of what `/metrics` serves.
public enum PrometheusSamples {
    /// `"name{label=value,…}"` (labels sorted) → value; throws when the client refuses the text.
    public static func parse(_ exposition: [UInt8]) async throws -> [String: Double] {
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}}\\t{s.value!r}")
            """
        var samples: [String: Double] = [:]
        for line in try await ChildProcess.run(["python3", "-c", script], input: exposition).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let value = Double(parts[1]) { samples[String(parts[0])] = value }
        }
        return samples
    }
}
