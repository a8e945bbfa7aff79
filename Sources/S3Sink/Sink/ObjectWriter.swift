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
    private let partSize: Int
    private let contentType: String
    private var gzip: GzipWriter?
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var parts: [CompletedPart] = []

    /// Bytes appended so far, before compression.
    private(set) var rawByteCount = 0

    init(
        client: S3Client, bucket: String, key: String, startOffset: Int64, partSize: Int, contentType: String,
        compression: CompressionType
    ) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.startOffset = startOffset
        self.partSize = partSize
        self.contentType = contentType
        self.gzip = compression == .gzip ? GzipWriter() : nil
    }

    /// Appends one record's bytes; uploads a part when enough is buffered.
    func append(_ bytes: [UInt8]) async throws(S3Error) {
        rawByteCount += bytes.count
        if gzip != nil {
            buffer += gzip!.append(bytes)
        } else {
            buffer += bytes
        }
        while buffer.count >= partSize {
            try await uploadPart(Array(buffer.prefix(partSize)))
            buffer.removeFirst(partSize)
        }
    }

    /// Finishes the object so it appears under its key.
    func commit() async throws(S3Error) {
        if gzip != nil {
            buffer += gzip!.finish()
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
        buffer = []
        if let uploadID {
            // Best effort: S3 lifecycle rules clean up what an abort misses.
            try? await client.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
        }
        uploadID = nil
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
