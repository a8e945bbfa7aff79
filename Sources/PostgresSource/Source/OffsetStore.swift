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
        try await alter { $0.merge(offsets) { _, new in new } }
    }

    /// Changes the stored offsets with `change` and writes them durably. The
    /// read, the change and the write run as one job on the file's thread,
    /// so sources sharing the file never lose each other's updates.
    public func alter(_ change: @escaping @Sendable (inout [String: JSON]) -> Void) async throws {
        let path = self.path, cache = self.cache
        try await worker.run {
            var offsets = try cache.value ?? FileOffsetStore.load(path)
            change(&offsets)
            let bytes = JSON.object(offsets.keys.sorted().map { ($0, offsets[$0]!) }).serialized()
            try FileOffsetStore.writeAtomically(bytes, to: path)
            cache.withLock { $0 = offsets }
        }
    }

    /// Every stored offset, read from the file once.
    public func all() async throws -> [String: JSON] {
        if let cached = cache.value { return cached }
        let path = self.path, cache = self.cache
        return try await worker.run {
            if let cached = cache.value { return cached }
            let loaded = try FileOffsetStore.load(path)
            cache.withLock { $0 = loaded }
            return loaded
        }
    }

    /// The file's offsets; a missing or empty file holds none.
    static func load(_ path: String) throws -> [String: JSON] {
        var loaded: [String: JSON] = [:]
        if let bytes = try read(path), !bytes.isEmpty {
            guard case .object(let members) = try JSON.parse(bytes) else {
                throw PipelineError.other("offset file \(path) is not a JSON object")
            }
            for (key, value) in members { loaded[key] = value }
        }
        return loaded
    }

    /// The bytes of `path`, or nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
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

    /// Replaces `path` with `bytes` atomically and durably (temp file, fsync, rename, directory fsync).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
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
