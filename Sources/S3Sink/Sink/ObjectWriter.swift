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
    private var buffer: [UInt8] = []
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
        if gzip != nil {
            gzip!.append(bytes, to: &buffer)
        } else {
            buffer += bytes
        }
        while buffer.count >= partSize {
            try await uploadPart(takePart(partSize))
        }
    }

    /// The first `partSize` bytes of the buffer, which keeps the rest: the
    /// buffer itself, cut to the part, so only the few bytes past it are copied.
    private func takePart(_ partSize: Int) -> [UInt8] {
        guard buffer.count > partSize else {
            defer { buffer = [] }
            return buffer
        }
        let rest = Array(buffer[partSize...])
        buffer.removeSubrange(partSize...)
        defer { buffer = rest }
        return buffer
    }

    /// Finishes the object so it appears under its key.
    func commit() async throws(S3Error) {
        close()
        if gzip != nil {
            gzip!.finish(to: &buffer)
            gzip = nil
        }
        guard let uploadID else {
            try await client.putObject(bucket: bucket, key: key, body: buffer, contentType: contentType)
            buffer = []
            return
        }
        if !buffer.isEmpty || parts.isEmpty { try await uploadPart(buffer) }
        buffer = []
        try await client.completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        self.uploadID = nil
    }

    /// Drops the object: aborts its multipart upload if one was started.
    func discard() async {
        close()
        buffer = []
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
/// Only the multipart layout changes, never an object's bytes or name.
final class BufferBudget {
    /// The most all open files should buffer together.
    let totalBytes: Int
    /// `s3.part.size`: the part size when few files are open.
    let configuredPartSize: Int
    /// Files open now.
    var openFiles = 0

    init(totalBytes: Int, configuredPartSize: Int) {
        self.totalBytes = totalBytes
        self.configuredPartSize = configuredPartSize
    }

    /// The part size for the files open now.
    var partSize: Int {
        max(S3Client.minimumPartSize, min(configuredPartSize, totalBytes / max(openFiles, 1)))
    }
}
