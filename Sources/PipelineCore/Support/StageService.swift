import ServiceLifecycle

/// Runs a stage's `run()` as a swift-service-lifecycle `Service`.
///
/// Graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`) cancels the
/// stage's task; every stage treats cancellation as "finish the batch in hand,
/// flush, commit, return", so the process exits 0 with nothing lost.
public struct StageService: Service {
    public let name: String
    private let body: @Sendable () async throws -> Void

    public init(name: String, run body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await body()
        }
    }
}
