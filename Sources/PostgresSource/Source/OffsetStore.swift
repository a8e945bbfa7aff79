#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PipelineCore

/// Where a source keeps its positions, one JSON value per source partition
/// (a table). Implementations: ``FileOffsetStore`` (Connect standalone's
/// `offset.storage.file.filename`, the default); a compacted Kafka topic can
/// implement the same protocol.
public protocol OffsetStore: Sendable {
    /// The stored offset of `partition`, or nil.
    func offset(for partition: String) async throws -> JSON?
    /// Stores `offsets` (merged with the others) durably before returning, all or nothing.
    func store(_ offsets: [String: JSON]) async throws
}

/// Offsets in one local JSON file, replaced atomically on every store: the
/// new content goes to a temporary file that is fsynced, renamed over the old
/// one, and the directory fsynced, so a crash leaves the old or the new file,
/// never a torn one. File I/O runs on a dedicated thread.
public final class FileOffsetStore: OffsetStore {
    public let path: String
    private let worker = BlockingWorker(name: "offset-file")
    private let cache = Locked<[String: JSON]?>(nil)

    public init(path: String) {
        self.path = path
    }

    deinit { worker.shutdown() }

    public func offset(for partition: String) async throws -> JSON? {
        try await all()[partition]
    }

    public func store(_ offsets: [String: JSON]) async throws {
        var merged = try await all()
        merged.merge(offsets) { _, new in new }
        let bytes = JSON.object(merged.keys.sorted().map { ($0, merged[$0]!) }).serialized()
        let path = self.path
        try await worker.run { try FileOffsetStore.writeAtomically(bytes, to: path) }
        cache.withLock { $0 = merged }
    }

    /// Every stored offset, read from the file once.
    func all() async throws -> [String: JSON] {
        if let cached = cache.value { return cached }
        let path = self.path
        let bytes = try await worker.run { try FileOffsetStore.read(path) }
        var loaded: [String: JSON] = [:]
        if let bytes, !bytes.isEmpty {
            guard case .object(let members) = try JSON.parse(bytes) else {
                throw PipelineError.other("offset file \(path) is not a JSON object")
            }
            for (key, value) in members { loaded[key] = value }
        }
        cache.withLock { $0 = loaded }
        return loaded
    }

    static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fileError("open", path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw fileError("read", path) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try makeDirectories(directory)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw fileError("create", temporary) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                close(fd)
                throw fileError("write", temporary)
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw fileError("fsync", temporary)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw fileError("rename", temporary) }
        // The rename itself is durable only once the directory is synced.
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    static func makeDirectories(_ directory: String) throws {
        guard !directory.isEmpty else { return }
        var current = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw fileError("mkdir", current) }
        }
    }

    static func fileError(_ operation: String, _ path: String) -> PipelineError {
        PipelineError.other("offset file: \(operation) \(path) failed: \(String(cString: strerror(errno)))")
    }
}
