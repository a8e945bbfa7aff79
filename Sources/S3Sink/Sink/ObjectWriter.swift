import PipelineCore

/// One object being written: records are appended (compressed if asked)
/// and streamed out as multipart parts once `partSize` bytes are buffered,
/// so memory stays bounded however large `flush.size` is.
///
/// A small object is sent with one PutObject on ``commit()``; a large one
/// becomes a multipart upload completed on ``commit()``. Until then nothing
/// is visible under the key, and ``discard()`` aborts the upload.
final class ObjectWriter {
    let key: String
    let startOffset: Int64
    private let client: S3Client
    private let bucket: String
    private let budget: BufferBudget
    private var isOpen = true
    private let contentType: String
    private var gzip: GzipWriter?
    /// Bytes held in memory, counted in ``BufferBudget/inMemory``.
    private var buffer: [UInt8] = []
    /// Bytes that came before `buffer`, moved to `spill` while the task was over its memory budget.
    private var spill: SpillFile?
    private var spilledCount = 0
    private var uploadID: String?
    private var parts: [CompletedPart] = []

    /// Bytes appended so far, before compression.
    private(set) var rawByteCount = 0

    init(
        client: S3Client, bucket: String, key: String, startOffset: Int64, budget: BufferBudget, contentType: String,
        compression: CompressionType, compressionLevel: Int32
    ) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.startOffset = startOffset
        self.budget = budget
        budget.openFiles += 1
        self.contentType = contentType
        self.gzip = compression == .gzip ? GzipWriter(level: compressionLevel) : nil
    }

    /// Appends one record's bytes; uploads a part when enough is buffered.
    func append(_ bytes: [UInt8]) async throws(S3Error) {
        let partSize = budget.partSize
        // No reserveCapacity(partSize): with glibc's dynamic mmap threshold
        // a reserved part comes from an arena and stays resident once
        // freed; with 16 files open that made the peak 257 MB instead of
        // 209 (BENCHMARKS.md, run 6).
        rawByteCount += bytes.count
        growBuffer { buffer in
            if gzip != nil {
                gzip!.append(bytes, to: &buffer)
            } else {
                buffer += bytes
            }
        }
        if buffer.count >= BufferBudget.spillChunk && budget.isOverMemory { try await spillBuffer() }
        while spilledCount + buffer.count >= partSize {
            try await unspill()
            try await uploadPart(takePart(partSize))
        }
    }

    /// Runs `write` on the buffer and counts what it added in the budget.
    private func growBuffer(_ write: (inout [UInt8]) -> Void) {
        let before = buffer.count
        write(&buffer)
        budget.inMemory += buffer.count - before
    }

    /// Moves the buffer to this file's spill file, making it first.
    private func spillBuffer() async throws(S3Error) {
        let bytes = buffer
        let offset = spilledCount
        let existing = spill
        let directory = budget.spillDirectory
        do {
            spill = try await budget.spillWorker.run { () throws -> SpillFile in
                let file = try existing ?? SpillFile.create(in: directory)
                try file.write(bytes, at: offset)
                return file
            }
        } catch {
            throw spillFailure(error)
        }
        spilledCount += bytes.count
        budget.inMemory -= bytes.count
        budget.counters?.withLock { $0.bytesSpilled += bytes.count }
        buffer = []
    }

    /// Brings the spilled bytes back in front of the buffer, for an upload.
    private func unspill() async throws(S3Error) {
        guard spilledCount > 0, let spill else { return }
        let count = spilledCount
        let spilled: [UInt8]
        do {
            spilled = try await budget.spillWorker.run { () throws -> [UInt8] in try spill.read(count: count) }
        } catch {
            throw spillFailure(error)
        }
        buffer = spilled + buffer
        budget.inMemory += count
        // The next spill writes over the file from its start.
        spilledCount = 0
    }

    private func spillFailure(_ error: any Error) -> S3Error {
        S3Error(
            kind: .localSpill, operation: "Spill", bucket: bucket, key: key, httpStatus: nil, code: nil,
            message: "\(error)", requestID: nil, attempts: 1, isRetriable: false)
    }

    /// The first `partSize` bytes of the buffer, which keeps the rest: the
    /// buffer itself, cut to the part, so only the few bytes past it are copied.
    private func takePart(_ partSize: Int) -> [UInt8] {
        guard buffer.count > partSize else {
            budget.inMemory -= buffer.count
            defer { buffer = [] }
            return buffer
        }
        budget.inMemory -= partSize
        let rest = Array(buffer[partSize...])
        buffer.removeSubrange(partSize...)
        defer { buffer = rest }
        return buffer
    }

    /// Finishes the object so it appears under its key.
    func commit() async throws(S3Error) {
        close()
        if let gzip {
            growBuffer { gzip.finish(to: &$0) }
            self.gzip = nil
        }
        try await unspill()
        // The bytes are released only once uploaded: a commit that throws
        // keeps them, so trying it again uploads the same object.
        guard let uploadID else {
            try await client.putObject(bucket: bucket, key: key, body: buffer, contentType: contentType)
            releaseBuffers()
            return
        }
        if !buffer.isEmpty || parts.isEmpty { try await uploadPart(buffer) }
        releaseBuffers()
        try await client.completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        self.uploadID = nil
    }

    /// Empties the buffer and drops the spill file (the object is uploaded or given up).
    private func releaseBuffers() {
        budget.inMemory -= buffer.count
        buffer = []
        spill = nil
        spilledCount = 0
    }

    /// Drops the object: aborts its multipart upload if one was started.
    func discard() async {
        close()
        releaseBuffers()
        if let uploadID {
            // Best effort: S3 lifecycle rules clean up what an abort misses.
            try? await client.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
        }
        uploadID = nil
    }

    /// Leaves the budget's count of open files (once).
    private func close() {
        if isOpen { budget.openFiles -= 1 }
        isOpen = false
    }

    private func uploadPart(_ body: [UInt8]) async throws(S3Error) {
        if uploadID == nil {
            uploadID = try await client.createMultipartUpload(bucket: bucket, key: key, contentType: contentType)
        }
        let part = try await client.uploadPart(
            bucket: bucket, key: key, uploadID: uploadID!, partNumber: parts.count + 1, body: body)
        parts.append(part)
    }
}

/// Shares a memory budget among the open files of one task.
///
/// Each open file buffers up to one part before uploading it. With many
/// files open (a FieldPartitioner over many values), parts shrink toward
/// S3's 5 MiB minimum so that all buffers together stay near `totalBytes`.
/// Past `memoryBytes` in memory, a file that has a chunk buffered moves
/// it to its ``SpillFile`` and reads it back when the bytes go out. Only
/// where the bytes wait and the multipart layout change, never an object's
/// bytes or name.
final class BufferBudget {
    /// The most all open files should buffer together.
    let totalBytes: Int
    /// `s3.part.size`: the part size when few files are open.
    let configuredPartSize: Int
    /// The most the open files should hold in memory together; the rest is spilled.
    let memoryBytes: Int
    /// Where spill files are made.
    let spillDirectory: String
    /// Files open now.
    var openFiles = 0
    /// Bytes the open files hold in memory now.
    var inMemory = 0

    /// A file spills only once it has this much in memory, so that each
    /// spill is one write of a useful size and memory stays near
    /// `memoryBytes` plus a chunk per open file.
    static let spillChunk = 256 * 1024

    /// Where ``S3SinkStatistics/bytesSpilled`` is counted.
    let counters: Locked<S3SinkStatistics>?

    init(
        totalBytes: Int, configuredPartSize: Int, memoryBytes: Int = .max, spillDirectory: String = "/tmp",
        counters: Locked<S3SinkStatistics>? = nil
    ) {
        self.totalBytes = totalBytes
        self.configuredPartSize = configuredPartSize
        self.memoryBytes = memoryBytes
        self.spillDirectory = spillDirectory
        self.counters = counters
    }

    /// The part size for the files open now.
    var partSize: Int {
        max(S3Client.minimumPartSize, min(configuredPartSize, totalBytes / max(openFiles, 1)))
    }

    /// Whether the open files hold more than `memoryBytes` in memory.
    var isOverMemory: Bool { inMemory > memoryBytes }

    /// The thread for spill files' reads and writes, started by the first spill.
    private(set) lazy var spillWorker = BlockingWorker(name: "s3-spill")
}
