import CMalloc
import Foundation
import PipelineCore

/// glibc malloc settings for this process, made before any connector
/// starts its threads. The libraries never change them: an application
/// that embeds a stage owns its allocator.
///
/// With glibc's defaults a worker's resident memory was twice its live heap
/// (1,000,000 rows through the three seed connectors: heap peak 127 MB
/// measured with heaptrack, RSS peak 273 MB; BENCHMARKS.md, run 14). glibc
/// raises its mmap threshold to the largest block freed (up to 32 MiB), so
/// the S3 sink's and librdkafka's buffers of a few MiB end up in the
/// per-thread arenas, where freeing them rarely gives pages back. A fixed
/// 256 KiB threshold maps and unmaps such buffers whole. (Fewer arenas
/// saved another 15–25 MB but cost a third more CPU a row, in malloc's
/// locks and free lists.)
///
/// Below the threshold (messages, rows, librdkafka's buffers) glibc gives
/// back only the free memory at the top of an arena; pages freed inside it
/// stay resident, so the resident set still grew past the live heap: at
/// 1,000,000 rows heaptrack saw a live peak of 85 MB in a 152–156 MB
/// resident set. `malloc_trim` once a second hands those free
/// pages back (with the S3 sink's 8 MiB memory budget, 138–143 MB against
/// 147–155; no change in CPU a row; BENCHMARKS.md, run 19).
///
/// `GLIBC_TUNABLES` with a `glibc.malloc.` setting, or `MALLOC_MMAP_THRESHOLD_`,
/// in the environment is left to rule instead.
enum MallocSettings {
    static let mmapThreshold: Int32 = 256 * 1024
    /// How often free memory is given back. A trim walks the arenas' free
    /// lists: microseconds when idle, too little to show in a busy run.
    static let trimIntervalSeconds: UInt32 = 1

    /// Its own thread: a sleeping loop does not belong on the cooperative pool.
    private static let trimmer = BlockingWorker(name: "malloc-trim")

    /// Sets them unless the environment sets malloc's own; a no-op off glibc.
    static func apply() {
        if ProcessEnvironment.get("GLIBC_TUNABLES")?.contains("glibc.malloc.") == true { return }
        if ProcessEnvironment.get("MALLOC_MMAP_THRESHOLD_") != nil { return }
        guard tributary_set_mmap_threshold(mmapThreshold) != 0 else { return }
        trimmer.enqueue {
            while true {
                sleep(trimIntervalSeconds)
                tributary_trim_heap()
            }
        }
    }
}
