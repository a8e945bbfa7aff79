/// A part uploaded in a multipart upload.
public struct CompletedPart: Sendable, Equatable {
    /// 1-based part number.
    public var partNumber: Int
    /// The ETag S3 returned for the part.
    public var etag: String

    /// A part record.
    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// Multipart upload: every part but the last must be at least 5 MiB.
extension S3Client {
    /// The smallest part S3 accepts (except for the last one).
    public static let minimumPartSize = 5 * 1024 * 1024

    /// Starts a multipart upload of `key`; returns the upload id.
    public func createMultipartUpload(
        bucket: String, key: String, contentType: String = "application/octet-stream"
    ) async throws(S3Error) -> String {
        let call = Call(
            operation: "CreateMultipartUpload", method: "POST", bucket: bucket, key: key,
            query: [(name: "uploads", value: "")], headers: [(name: "Content-Type", value: contentType)])
        let response = try await execute(call)
        guard let root = try? XML.parse(response.body), let uploadID = root.value("UploadId"), !uploadID.isEmpty
        else {
            throw failure(call, kind: .invalidResponse, code: nil, message: "answer has no UploadId",
                          attempts: 1, retriable: false, status: response.status)
        }
        return uploadID
    }

    /// Uploads part `partNumber` (1-based) of an upload.
    public func uploadPart(
        bucket: String, key: String, uploadID: String, partNumber: Int, body: [UInt8]
    ) async throws(S3Error) -> CompletedPart {
        let call = Call(
            operation: "UploadPart", method: "PUT", bucket: bucket, key: key,
            query: [(name: "partNumber", value: String(partNumber)), (name: "uploadId", value: uploadID)],
            body: body)
        let response = try await execute(call)
        guard let etag = response.headers["etag"], !etag.isEmpty else {
            throw failure(call, kind: .invalidResponse, code: nil, message: "answer has no ETag",
                          attempts: 1, retriable: false, status: response.status)
        }
        return CompletedPart(partNumber: partNumber, etag: etag)
    }

    /// Completes an upload from its parts; returns the object's ETag.
    @discardableResult
    public func completeMultipartUpload(
        bucket: String, key: String, uploadID: String, parts: [CompletedPart]
    ) async throws(S3Error) -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
            xml += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(XML.escape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let call = Call(
            operation: "CompleteMultipartUpload", method: "POST", bucket: bucket, key: key,
            query: [(name: "uploadId", value: uploadID)],
            headers: [(name: "Content-Type", value: "application/xml")], body: Array(xml.utf8),
            errorMayHideInSuccess: true)
        do {
            let response = try await execute(call)
            return (try? XML.parse(response.body))?.value("ETag") ?? ""
        } catch where error.code == "NoSuchUpload" && error.attempts > 1 {
            // An earlier attempt may have completed the upload and lost only
            // the answer; then the object is there with a multipart ETag.
            if let head = try await headObject(bucket: bucket, key: key),
                head.etag.hasSuffix("-\(parts.count)\"") || head.etag.hasSuffix("-\(parts.count)")
            {
                return head.etag
            }
            throw error
        }
    }

    /// Abandons an upload and frees its parts.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws(S3Error) {
        _ = try await execute(
            Call(
                operation: "AbortMultipartUpload", method: "DELETE", bucket: bucket, key: key,
                query: [(name: "uploadId", value: uploadID)]))
    }

    /// Uploads `body` as `key`: one PUT up to `partSize`, otherwise a
    /// multipart upload of `partSize` parts that is aborted if any step fails.
    @discardableResult
    public func upload(
        bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream",
        partSize: Int = 16 * 1024 * 1024
    ) async throws(S3Error) -> String {
        let partSize = max(partSize, Self.minimumPartSize)
        guard body.count > partSize else {
            return try await putObject(bucket: bucket, key: key, body: body, contentType: contentType)
        }
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, contentType: contentType)
        do {
            var parts: [CompletedPart] = []
            var start = 0
            while start < body.count {
                let end = min(start + partSize, body.count)
                parts.append(
                    try await uploadPart(
                        bucket: bucket, key: key, uploadID: uploadID, partNumber: parts.count + 1,
                        body: Array(body[start..<end])))
                start = end
            }
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        } catch {
            // Best effort: the original error matters more than a failed abort.
            try? await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }
}
