import PipelineCore
import PostgresSource

/// Where a worker's sources keep their offsets, with what the offsets
/// endpoints need besides a source's own reads and writes: every offset,
/// and an all-or-nothing change. Keys are `CONNECTOR/PARTITION`
/// (`users-source/public.USERS`). Implementations: ``FileOffsetStore``
/// (standalone, `offset.storage.file.filename`) and ``KafkaOffsetStore``
/// (distributed, `offset.storage.topic`).
public protocol WorkerOffsetStore: OffsetStore {
    /// Every stored offset by key.
    func all() async throws -> [String: JSON]
    /// Applies `change` to the stored offsets and stores the result durably
    /// (a key removed is an offset removed).
    func alter(_ change: @escaping @Sendable (inout [String: JSON]) -> Void) async throws
}

extension FileOffsetStore: WorkerOffsetStore {}
