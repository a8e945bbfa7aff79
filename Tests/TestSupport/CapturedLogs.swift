import Logging
import PipelineCore

/// What a logger under test wrote, for tests that check a log line was (or
/// was not) given. Shared by every test target: one capture, one format.
public final class CapturedLogs: Sendable {
    /// One logged event: its level, message and metadata (the handler's and the event's).
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: Logger.Metadata

        /// `level message key=value …`, the keys sorted.
        public var line: String {
            "\(level) \(message) " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    private let store = Locked<[Entry]>([])

    public init() {}

    /// Everything logged so far, in order.
    public var entries: [Entry] { store.value }
    /// Every entry as its ``Entry/line``.
    public var lines: [String] { store.value.map(\.line) }

    /// A logger (every level) writing here.
    public var logger: Logger {
        let store = self.store
        return Logger(label: "test") { _ in Handler(store: store) }
    }

    struct Handler: LogHandler {
        let store: Locked<[Entry]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            store.withLock { $0.append(Entry(level: event.level, message: event.message.description, metadata: merged)) }
        }
    }
}
