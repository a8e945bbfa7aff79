import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `scripts/services.sh` started from a clone that only its owner can enter
/// (a 0700 home or `mktemp -d`): PostgreSQL and MariaDB run as their own
/// users and must still reach their data dirs.
final class PrivateCloneTests: XCTestCase {
    func testServersStartWhenTheStateDirIsPrivate() async throws {
        let privateDir = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-private-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: privateDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: privateDir) }
        let state = privateDir.appendingPathComponent("clone/.state/services").path
        let environment = ["TRIBUTARY_STATE_DIR": state, "TRIBUTARY_SKIP_KAFKA": "1"]
        defer { _ = try? services("down", environment: environment) }

        let up = try services("up", environment: environment)
        XCTAssertEqual(up.status, 0, "services.sh up from a 0700 directory failed:\n\(up.output)")
        XCTAssertTrue(up.output.contains("is private"), "the log should say where the data went:\n\(up.output)")

        // The servers answer queries, so they really have their data dirs.
        let env = try String(contentsOfFile: state + "/env", encoding: .utf8)
        let pgURL = try XCTUnwrap(Self.exported("TRIBUTARY_PG_URL", in: env))
        let psql = try run("/usr/bin/psql", [pgURL, "-tAc", "SELECT 40 + 2"], environment: [:])
        XCTAssertEqual(psql.output.trimmingCharacters(in: .whitespacesAndNewlines), "42", psql.output)
        let port = try String(contentsOfFile: state + "/mysql.port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let password = try String(contentsOfFile: state + "/mysql.password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let mysql = try run(
            "/usr/bin/mariadb", ["--no-defaults", "-h127.0.0.1", "-P\(port)", "-utributary", "-p\(password)", "-NBe", "SELECT 6 * 7"],
            environment: [:])
        XCTAssertEqual(mysql.output.trimmingCharacters(in: .whitespacesAndNewlines), "42", mysql.output)

        let down = try services("down", environment: environment)
        XCTAssertEqual(down.status, 0, down.output)
        // The server logs are kept in the state dir; the data outside it is gone.
        XCTAssertTrue(FileManager.default.fileExists(atPath: state + "/pg/postgres.log"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { name in
            name.hasPrefix("tributary-servers-") && up.output.contains("/tmp/" + name)
        }
        XCTAssertEqual(leftovers, [], "down should remove the data dirs under /tmp")
    }

    private func services(_ command: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        // Tests/EndToEndTests/<this file> → the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/services.sh").path
        return try run("/bin/bash", [script, command], environment: environment)
    }

    /// Runs a command to completion with posix_spawn and waitpid. Foundation's
    /// `Process.waitUntilExit` was seen to miss the exit of a shell whose
    /// daemons (setsid) outlive it, and hang; waitpid cannot miss it.
    private func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        // The suite's own servers must not be touched: only our state dir counts.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRIBUTARY_") }
        env.merge(environment) { _, new in new }
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("private-clone-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw E2EFailure("could not start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS, which do not import as macros.
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, output)
    }

    private static func exported(_ name: String, in env: String) -> String? {
        for line in env.split(separator: "\n") where line.hasPrefix("export \(name)='") {
            return String(line.dropFirst("export \(name)='".count).dropLast())
        }
        return nil
    }
}
