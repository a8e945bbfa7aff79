#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// glibc's malloc raises its mmap threshold as large blocks are freed, up
/// to 32 MiB, after which freed batch buffers (a sink's 10,000-record
/// batches, S3 parts) stay in the heap and count in RSS long after use:
/// heaptrack measured an 83 MB heap peak inside a 172 MB RSS peak (BENCHMARKS.md
/// run 6). A fixed 128 KiB threshold returns such blocks to the system when
/// freed; its CPU cost did not show in the same benchmark.
enum MemoryTuning {
    static let mmapThreshold: Int32 = 128 << 10
    /// `M_MMAP_THRESHOLD` of glibc's <malloc.h>, which Swift's Glibc module does not import.
    private static let mmapThresholdParameter: Int32 = -3

    /// Applies the threshold unless the user tuned malloc through the environment.
    static func apply(environment: [String: String] = ProcessInfo.processInfo.environment) {
        #if canImport(Glibc)
        if environment["MALLOC_MMAP_THRESHOLD_"] != nil { return }
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("mmap_threshold") { return }
        // mallopt is declared in <malloc.h> only: found at run time instead.
        guard let symbol = dlsym(nil, "mallopt") else { return }  // nil: RTLD_DEFAULT, the process's own symbols
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThresholdParameter, mmapThreshold)
        #endif
    }
}
