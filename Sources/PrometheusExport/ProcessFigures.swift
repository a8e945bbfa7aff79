import Foundation

/// The process's CPU time and resident memory, from Linux's `/proc/self`.
struct ProcessFigures: Equatable {
    /// User plus system CPU time, in seconds.
    var cpuSeconds: Double
    /// Resident set size, in bytes.
    var residentBytes: Int

    /// Now; zero where `/proc` cannot be read (not Linux).
    static func read() -> ProcessFigures {
        let stat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) ?? ""
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        return parse(stat: stat, statm: statm, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))), pageSize: Int(sysconf(Int32(_SC_PAGESIZE))))
    }

    /// Reads fields 14 and 15 (utime, stime in clock ticks) of `stat`, after
    /// the command name in parentheses (which may hold spaces), and the
    /// second field of `statm` (resident pages).
    static func parse(stat: String, statm: String, ticksPerSecond: Double, pageSize: Int) -> ProcessFigures {
        var cpu = 0.0
        if let close = stat.lastIndex(of: ")") {
            // After ") ": field 3 (state) onwards.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticksPerSecond > 0 {
                cpu = (user + system) / ticksPerSecond
            }
        }
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return ProcessFigures(cpuSeconds: cpu, residentBytes: pages * pageSize)
    }

    /// Both figures in the text exposition format, with Prometheus's standard process metric names.
    var exposition: String {
        """
        # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
        # TYPE process_cpu_seconds_total counter
        process_cpu_seconds_total \(cpuSeconds)
        # HELP process_resident_memory_bytes Resident memory size in bytes.
        # TYPE process_resident_memory_bytes gauge
        process_resident_memory_bytes \(residentBytes)

        """
    }
}
