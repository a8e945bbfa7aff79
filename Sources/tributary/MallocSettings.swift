import CMalloc
import PipelineCore

/// glibc malloc settings for this process, made before any connector
/// starts its threads. The libraries never change them: an application
/// that embeds a stage owns its allocator.
///
/// With glibc's defaults a worker's resident memory was twice its live heap
/// (1,000,000 rows through the three seed connectors: heap peak 127 MB
/// measured with heaptrack, RSS peak 272 MB; BENCHMARKS.md, run 14):
/// - every thread that allocates can get an arena of its own (up to 8 per
///   core), and each arena keeps its own high-water mark of freed memory.
///   librdkafka alone runs a thread per broker per client;
/// - glibc raises its mmap threshold to the largest block freed (up to 32
///   MiB), so the S3 sink's and librdkafka's buffers of a few MiB end up in
///   those arenas, where freeing them rarely returns pages to the kernel.
///
/// Two arenas and a fixed 256 KiB threshold (large buffers are mapped and
/// unmapped whole) brought that run's peak RSS from 243 to 185 MB.
/// `GLIBC_TUNABLES` with a `glibc.malloc.` setting, or `MALLOC_ARENA_MAX`,
/// in the environment is left to rule instead.
enum MallocSettings {
    static let arenas: Int32 = 2
    static let mmapThreshold: Int32 = 256 * 1024

    /// Sets them unless the environment sets malloc's own; a no-op off glibc.
    static func apply() {
        if ProcessEnvironment.get("GLIBC_TUNABLES")?.contains("glibc.malloc.") == true { return }
        if ProcessEnvironment.get("MALLOC_ARENA_MAX") != nil { return }
        _ = tributary_set_malloc_options(arenas, mmapThreshold)
    }
}
