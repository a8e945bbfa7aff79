import PipelineCore
import PostgresSource

/// Connector configs and target states in one JSON file, Connect
/// standalone's state made durable: each change replaces the file
/// atomically (temp file, fsync, rename, directory fsync), so a worker
/// killed at any moment finds the old or the new state, never a torn one.
///
/// Layout: `{"connectors":{"NAME":{"config":{…},"target":"RUNNING"}}}`.
public final class FileConfigStore: ConfigStore {
    public let path: String
    public var location: String { path }
    /// File I/O stays off Swift's cooperative pool.
    private let worker = BlockingWorker(name: "config-store")

    public init(path: String) {
        self.path = path
    }

    deinit { worker.shutdown() }

    /// Every stored connector; a missing file holds none.
    public func load() async throws -> [String: StoredConnector] {
        let path = self.path
        return try await worker.run {
            guard let bytes = try FileOffsetStore.read(path), !bytes.isEmpty else { return [:] }
            return try FileConfigStore.decode(bytes, path: path)
        }
    }

    /// Replaces the stored state with `connectors`, durably.
    public func save(_ connectors: [String: StoredConnector]) async throws {
        let bytes = FileConfigStore.encode(connectors).serialized()
        let path = self.path
        try await worker.run { try FileOffsetStore.writeAtomically(bytes, to: path) }
    }

    static func encode(_ connectors: [String: StoredConnector]) -> JSON {
        .object([
            (
                "connectors",
                .object(
                    connectors.keys.sorted().map { name in
                        let stored = connectors[name]!
                        let config = JSON.object(stored.config.keys.sorted().map { ($0, .string(stored.config[$0]!)) })
                        return (name, .object([("config", config), ("target", .string(stored.target.rawValue))]))
                    })
            )
        ])
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> [String: StoredConnector] {
        guard case .object(let members)? = try JSON.parse(bytes)["connectors"] else {
            throw PipelineError.other("config store \(path): no \"connectors\" object")
        }
        var out: [String: StoredConnector] = [:]
        for (name, entry) in members {
            guard case .object(let pairs)? = entry["config"],
                let target = entry["target"]?.stringValue.flatMap(TargetState.init(rawValue:))
            else { throw PipelineError.other("config store \(path): connector \(name) has no config or target") }
            var config: [String: String] = [:]
            for (key, value) in pairs { config[key] = value.stringValue ?? value.text }
            out[name] = StoredConnector(config: config, target: target)
        }
        return out
    }
}
