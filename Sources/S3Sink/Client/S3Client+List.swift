/// An object in a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    /// The full key.
    public var key: String
    /// The size in bytes.
    public var size: Int
    /// The ETag, quotes included as S3 sends it.
    public var etag: String
    /// `LastModified`, ISO 8601 as S3 sends it.
    public var lastModified: String
}

/// One page of a ListObjectsV2 answer.
public struct ListObjectsPage: Sendable, Equatable {
    /// Objects whose keys matched (and were not rolled up by the delimiter).
    public var objects: [S3ObjectSummary]
    /// Key prefixes rolled up by the delimiter, e.g. `topics/P_USERS/`.
    public var commonPrefixes: [String]
    /// The token for the next page, if the listing is truncated.
    public var nextContinuationToken: String?
}

/// Listing.
extension S3Client {
    /// One page of ListObjectsV2.
    public func listObjectsV2(
        bucket: String, prefix: String? = nil, delimiter: String? = nil,
        continuationToken: String? = nil, maxKeys: Int? = nil
    ) async throws(S3Error) -> ListObjectsPage {
        var query: [(name: String, value: String)] = [(name: "list-type", value: "2")]
        if let prefix { query.append((name: "prefix", value: prefix)) }
        if let delimiter { query.append((name: "delimiter", value: delimiter)) }
        if let continuationToken { query.append((name: "continuation-token", value: continuationToken)) }
        if let maxKeys { query.append((name: "max-keys", value: String(maxKeys))) }
        let call = Call(operation: "ListObjectsV2", method: "GET", bucket: bucket, key: nil, query: query)
        let response = try await execute(call)
        guard let root = try? XML.parse(response.body), root.name == "ListBucketResult" else {
            throw failure(call, kind: .invalidResponse, code: nil,
                          message: "answer is not a ListBucketResult", attempts: 1, retriable: false,
                          status: response.status)
        }
        let objects = root.children("Contents").map { entry in
            S3ObjectSummary(
                key: entry.value("Key") ?? "", size: Int(entry.value("Size") ?? "") ?? 0,
                etag: entry.value("ETag") ?? "", lastModified: entry.value("LastModified") ?? "")
        }
        let prefixes = root.children("CommonPrefixes").compactMap { $0.value("Prefix") }
        let truncated = root.value("IsTruncated") == "true"
        return ListObjectsPage(
            objects: objects, commonPrefixes: prefixes,
            nextContinuationToken: truncated ? root.value("NextContinuationToken") : nil)
    }

    /// Every page of ListObjectsV2, concatenated.
    public func listAllObjects(bucket: String, prefix: String? = nil, delimiter: String? = nil)
        async throws(S3Error) -> ListObjectsPage
    {
        var all = ListObjectsPage(objects: [], commonPrefixes: [], nextContinuationToken: nil)
        var token: String? = nil
        repeat {
            let page = try await listObjectsV2(
                bucket: bucket, prefix: prefix, delimiter: delimiter, continuationToken: token)
            all.objects += page.objects
            all.commonPrefixes += page.commonPrefixes
            token = page.nextContinuationToken
        } while token != nil
        return all
    }
}
