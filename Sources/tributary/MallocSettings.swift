import CMalloc
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
/// `GLIBC_TUNABLES` with a `glibc.malloc.` setting, or `MALLOC_MMAP_THRESHOLD_`,
/// in the environment is left to rule instead.
enum MallocSettings {
    static let mmapThreshold: Int32 = 256 * 1024

    /// Sets it unless the environment sets malloc's own; a no-op off glibc.
    static func apply() {
        if ProcessEnvironment.get("GLIBC_TUNABLES")?.contains("glibc.malloc.") == true { return }
        if ProcessEnvironment.get("MALLOC_MMAP_THRESHOLD_") != nil { return }
        _ = tributary_set_mmap_threshold(mmapThreshold)
    }
}
