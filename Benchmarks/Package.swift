// swift-tools-version: 6.1
import PackageDescription

import Foundation

/// `TRIBUTARY_BENCH_BASELINE=<checkout>` benchmarks another checkout (for
/// example main before a change) through the old API, for before/after figures.
let baseline = ProcessInfo.processInfo.environment["TRIBUTARY_BENCH_BASELINE"]
let tributaryPath = baseline ?? ".."
/// A path dependency is known by its directory's name, whatever the checkout is called.
let tributary = URL(fileURLWithPath: tributaryPath, relativeTo: URL(fileURLWithPath: Context.packageDirectory + "/"))
    .standardizedFileURL.lastPathComponent

/// Micro-benchmarks of the per-record hot paths (no servers needed), kept in
/// a package of their own so the main package and CI never build
/// package-benchmark. Run them with `scripts/microbench.sh`.
let package = Package(
    name: "TributaryBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: tributaryPath),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Codec",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "PipelineCore", package: tributary),
            ],
            path: "Benchmarks/Codec",
            swiftSettings: baseline == nil ? [] : [.define("BASELINE")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
