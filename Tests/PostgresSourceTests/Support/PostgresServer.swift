import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The private PostgreSQL server that `scripts/services.sh` started under
/// `TRIBUTARY_STATE_DIR`, stopped and started again with `pg_ctl` (which
/// keeps its options in `postmaster.opts`): a server restart.
enum PostgresServer {
    static let pgCtl = "/usr/lib/postgresql/15/bin/pg_ctl"

    /// Stops the server (fast: sessions are cut off), waits `downtime`, and
    /// starts it again; it is started again whatever happens in between.
    static func restart(down downtime: Duration) async throws {
        // Not always under the state dir: from a private clone the data dir
        // lives where the postgres user can reach it (scripts/services.sh).
        guard let data = ProcessInfo.processInfo.environment["TRIBUTARY_PG_DATA"], !data.isEmpty else {
            throw PostgresServerError("TRIBUTARY_PG_DATA is not set; source the env file scripts/services.sh writes")
        }
        let log = URL(fileURLWithPath: data).deletingLastPathComponent().appendingPathComponent("postgres.log").path
        try await run(["stop", "-D", data, "-m", "fast", "-w", "-t", "30"])
        try? await Task.sleep(for: downtime)
        // restart on a stopped server starts it with the options it last ran with.
        try await run(["restart", "-D", data, "-m", "fast", "-w", "-t", "30", "-l", log])
    }

    /// Runs pg_ctl as the server's owner and waits for it on a thread of its own.
    /// (posix_spawn and waitpid, not Foundation's Process: its exit monitor
    /// missed pg_ctl's exit once the server it started outlived it.)
    private static func run(_ arguments: [String]) async throws {
        let argv = ["/usr/sbin/runuser", "-u", "postgres", "--", pgCtl] + arguments
        let status: Int32 = await withCheckedContinuation { continuation in
            let thread = Thread {
                var pid: pid_t = 0
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
                var cArguments = argv.map { strdup($0) } + [nil]
                defer { cArguments.forEach { free($0) } }
                guard posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ) == 0 else {
                    continuation.resume(returning: -1)
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }
            thread.start()
        }
        guard status == 0 else {
            throw PostgresServerError("pg_ctl \(arguments.first ?? "") failed (wait status \(status))")
        }
    }
}

struct PostgresServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
