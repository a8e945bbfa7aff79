import CoreMetrics
import Foundation
import PipelineCore
import Prometheus

/// The process's swift-metrics figures (every connector's
/// `ConnectorMetrics`, and anything else reported through swift-metrics) in
/// Prometheus's text exposition format, plus the process's own memory and
/// CPU, for a `/metrics` endpoint.
///
/// swift-metrics takes one backend per process, before the first metric is
/// made: call ``bootstrap()`` once, early in `main`.
///
/// ```swift
/// let metrics = PrometheusExport.bootstrap()
/// // … run connectors; on each scrape:
/// let body: [UInt8] = metrics.exposition()
/// ```
public final class PrometheusExport: Sendable {
    /// Where the metrics live; a library user may register their own in it too.
    public let registry: PrometheusCollectorRegistry

    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private static let installed = Locked<PrometheusExport?>(nil)

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Makes Prometheus the process's swift-metrics backend and returns it;
    /// later calls return the same one (swift-metrics allows one bootstrap).
    public static func bootstrap() -> PrometheusExport {
        installed.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Batch and poll durations: 1 ms to 1 min.
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            ]
            MetricsSystem.bootstrap(factory)
            let made = PrometheusExport(registry: registry)
            current = made
            return made
        }
    }

    /// Every metric in the text format, then `process_cpu_seconds_total` and
    /// `process_resident_memory_bytes` read from `/proc/self` now.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        buffer += Array(ProcessFigures.read().exposition.utf8)
        return buffer
    }
}
