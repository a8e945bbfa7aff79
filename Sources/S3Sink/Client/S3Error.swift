import PipelineCore

/// An S3 request that failed, after any retries.
///
/// Names the operation, bucket and key, with S3's own error `Code` and
/// `Message` when the service answered, or libcurl's reason when it did
/// not. Never contains credentials: request headers are not kept.
public struct S3Error: RetriableError, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Equatable {
        /// S3 answered with an error status (see ``code``, ``message``, ``httpStatus``).
        case service
        /// No usable HTTP response: connection refused or reset, timeout (see ``code``).
        case transport
        /// S3 answered success, but not with what the operation expects.
        case invalidResponse
        /// The request could not be made: bad endpoint, bucket or arguments.
        case invalidRequest
        /// The sink's local spill file for the object (see ``S3SinkConfig/memoryBudget``)
        /// could not be made, written or read: a full or read-only disk.
        case localSpill
    }

    /// The kind of failure.
    public var kind: Kind
    /// The S3 operation, e.g. `PutObject`.
    public var operation: String
    /// The bucket addressed.
    public var bucket: String
    /// The object key addressed, if any.
    public var key: String?
    /// The HTTP status of the last response, if there was one.
    public var httpStatus: Int?
    /// S3's error code (`SignatureDoesNotMatch`, `NoSuchKey`, `SlowDown`, …),
    /// or `CURLE_<n>` for a transport failure.
    public var code: String?
    /// S3's or libcurl's explanation.
    public var message: String
    /// S3's request id, for support cases.
    public var requestID: String?
    /// How many attempts were made.
    public var attempts: Int
    /// Whether the failure was of a retriable kind (retries ran out).
    public var isRetriable: Bool

    public var description: String {
        var text = "S3 \(operation) s3://\(bucket)"
        if let key { text += "/\(key)" }
        text += " failed"
        if let httpStatus { text += ": HTTP \(httpStatus)" }
        if let code { text += (httpStatus == nil ? ": " : " ") + code }
        if !message.isEmpty { text += ": \(message)" }
        var notes: [String] = []
        if let requestID { notes.append("request id \(requestID)") }
        notes.append(attempts == 1 ? "1 attempt" : "\(attempts) attempts")
        return text + " (" + notes.joined(separator: ", ") + ")"
    }

    /// S3 error codes that are worth retrying whatever their HTTP status.
    static let retriableCodes: Set<String> = [
        "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
        "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "OperationAborted",
    ]

    /// Whether an HTTP status is worth retrying on its own.
    static func isRetriable(status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500
    }
}
