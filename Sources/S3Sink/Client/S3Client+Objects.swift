/// Single-object operations.
extension S3Client {
    /// Uploads `body` as the object `key` in one request; returns its ETag.
    @discardableResult
    public func putObject(
        bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream"
    ) async throws(S3Error) -> String {
        let response = try await execute(
            Call(
                operation: "PutObject", method: "PUT", bucket: bucket, key: key,
                headers: [(name: "Content-Type", value: contentType)], body: body))
        return response.headers["etag"] ?? ""
    }

    /// Downloads the object `key`, or the byte range `range` of it.
    public func getObject(bucket: String, key: String, range: ClosedRange<Int>? = nil) async throws(S3Error)
        -> [UInt8]
    {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append((name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        return try await execute(
            Call(operation: "GetObject", method: "GET", bucket: bucket, key: key, headers: headers)
        ).body
    }

    /// The size and ETag of `key`, or `nil` if there is no such object.
    public func headObject(bucket: String, key: String) async throws(S3Error) -> (size: Int, etag: String)? {
        do {
            let response = try await execute(Call(operation: "HeadObject", method: "HEAD", bucket: bucket, key: key))
            return (Int(response.headers["content-length"] ?? "") ?? 0, response.headers["etag"] ?? "")
        } catch where error.httpStatus == 404 {
            return nil
        }
    }

    /// Deletes the object `key`. Deleting a missing key succeeds, as in S3.
    public func deleteObject(bucket: String, key: String) async throws(S3Error) {
        _ = try await execute(Call(operation: "DeleteObject", method: "DELETE", bucket: bucket, key: key))
    }

    /// Checks that `bucket` exists and the credentials may use it.
    ///
    /// - Throws: ``S3Error`` with status 404 (`NotFound`) or 403 (`Forbidden`).
    public func headBucket(bucket: String) async throws(S3Error) {
        _ = try await execute(Call(operation: "HeadBucket", method: "HEAD", bucket: bucket, key: nil))
    }
}
