import Foundation
import Logging
import PipelineCore

/// An S3 client over libcurl.
///
/// Requests are signed with SigV4 and performed one at a time on the
/// client's own thread (libcurl blocks); the API is `async` and the client
/// may be shared between tasks. Throttling, 5xx answers, resets and
/// timeouts are retried per the configured ``RetryPolicy``. Create one client
/// per independent stream of uploads: each keeps its connection open.
public final class S3Client: Sendable {
    /// The configuration the client was made with.
    public let configuration: S3ClientConfiguration
    let endpoint: Endpoint
    let signer: SigV4Signer
    private let worker: BlockingWorker
    private let connection: CurlConnection
    private let limits: TransferLimits
    /// Requests sent and retries made, shared by the tasks using the client.
    private let counters = Locked((requests: 0, retries: 0))

    /// A client for `configuration`.
    ///
    /// - Throws: ``S3Error`` of kind ``S3Error/Kind/invalidRequest`` for an
    ///   endpoint that is not an `http(s)://host[:port]` URL.
    public init(configuration: S3ClientConfiguration) throws {
        let endpointText = configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com"
        guard let endpoint = Endpoint(endpointText) else {
            throw S3Error(
                kind: .invalidRequest, operation: "Configure", bucket: "", key: nil, httpStatus: nil,
                code: "InvalidEndpoint", message: "endpoint '\(endpointText)' is not an http(s) URL",
                requestID: nil, attempts: 0, isRetriable: false)
        }
        self.configuration = configuration
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.limits = TransferLimits(
            connectTimeoutMilliseconds: RetryPolicy.milliseconds(configuration.connectTimeout),
            totalTimeoutMilliseconds: RetryPolicy.milliseconds(configuration.requestTimeout),
            stallSeconds: max(1, RetryPolicy.milliseconds(configuration.stallTimeout) / 1000))
        self.worker = BlockingWorker(name: "tributary-s3-curl")
        self.connection = CurlConnection()
    }

    static let logger = Logger(label: "tributary.s3")

    deinit {
        // curl_easy_cleanup (in CurlConnection's deinit) closes the cached
        // connection: on the worker thread, after the requests queued before it.
        let connection = self.connection
        worker.shutdown { withExtendedLifetime(connection) {} }
    }

    /// Stops the client's thread once queued requests are done; later calls fail.
    public func shutdown() { worker.shutdown() }

    /// Requests sent (every attempt counts) and retries made, since creation.
    public var statistics: (requests: Int, retries: Int) { counters.value }

    // MARK: - Request execution

    /// One S3 call: what to send and how to name it in errors.
    struct Call: Sendable {
        var operation: String
        var method: String
        var bucket: String
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        /// CompleteMultipartUpload may answer 200 with an `<Error>` body.
        var errorMayHideInSuccess = false
    }

    /// Sends `call`, retrying transient failures; returns a 2xx response.
    func execute(_ call: Call) async throws(S3Error) -> HTTPClientResponse {
        let (authority, path) = address(bucket: call.bucket, key: call.key)
        let signer = self.signer
        let limits = self.limits
        let base = "\(endpoint.scheme)://\(authority)"
        let request = SigningRequest(
            method: call.method, path: path, query: call.query,
            headers: [(name: "Host", value: authority)] + call.headers)
        let body = call.body
        let connection = self.connection
        var payloadHash: String? = nil
        var retry = RetryLoop(
            waitingFor: "S3 \(call.operation) s3://\(call.bucket)/\(call.key ?? "")", logger: Self.logger,
            backoff: configuration.retry.backoff)
        var attempt = 0
        while true {
            attempt += 1
            counters.withLock { counts in
                counts.requests += 1
                if attempt > 1 { counts.retries += 1 }
            }
            let knownHash = payloadHash
            let outcome: Attempt
            do {
                outcome = try await worker.run {
                    // Hash and sign on the client thread: hashing a 16 MiB
                    // part is real CPU work that should stay off the pool,
                    // and signing per attempt keeps x-amz-date fresh.
                    let hash = knownHash ?? SigV4Signer.payloadHash(of: body)
                    let signed = signer.sign(request, payloadHash: hash, date: Date())
                    let http = HTTPClientRequest(
                        method: call.method, url: base + signed.target, headers: signed.headers, body: body)
                    let result = Result { () throws(TransportFailure) in
                        try connection.perform(http, limits: limits)
                    }
                    return Attempt(payloadHash: hash, result: result)
                }
            } catch {
                throw failure(call, kind: .invalidRequest, code: "ClientShutDown",
                              message: "the S3 client was shut down", attempts: attempt - 1, retriable: false)
            }
            let error: S3Error
            payloadHash = outcome.payloadHash
            switch outcome.result {
            case .success(let response):
                if response.isSuccess {
                    guard call.errorMayHideInSuccess, let hidden = embeddedError(response, call, attempt) else {
                        retry.succeeded()
                        return response
                    }
                    error = hidden
                } else {
                    error = serviceError(response, call, attempt)
                }
            case .failure(let transport):
                error = failure(
                    call, kind: .transport, code: "CURLE_\(transport.code)", message: transport.message,
                    attempts: attempt, retriable: transport.isTransient)
            }
            guard error.isRetriable, attempt < configuration.retry.maxAttempts else { throw error }
            do {
                // Logged (rate-limited): an endpoint that stalls or answers
                // 503 is visible while it is retried, not only when it gives up.
                try await retry.failed(error)
            } catch {
                throw failure(call, kind: .transport, code: "Cancelled", message: "cancelled while retrying",
                              attempts: attempt, retriable: false)
            }
        }
    }

    /// What one attempt produced, and the body hash to reuse on the next.
    private struct Attempt: Sendable {
        var payloadHash: String
        var result: Result<HTTPClientResponse, TransportFailure>
    }

    /// The `Host` header value and raw path for a bucket and optional key.
    func address(bucket: String, key: String?) -> (authority: String, path: String) {
        let useVirtualHost: Bool
        switch configuration.addressing {
        case .pathStyle: useVirtualHost = false
        case .virtualHosted: useVirtualHost = true
        case .automatic:
            // Dots in a bucket name break the TLS wildcard certificate, and
            // custom endpoints (MinIO, moto) rarely resolve bucket subdomains.
            useVirtualHost = configuration.endpoint == nil && !bucket.contains(".")
        }
        let objectPath = key.map { "/" + $0 } ?? (useVirtualHost ? "/" : "")
        if useVirtualHost {
            return (endpoint.authority(host: "\(bucket).\(endpoint.host)"), endpoint.basePath + objectPath)
        }
        return (endpoint.authority(host: endpoint.host), endpoint.basePath + "/" + bucket + objectPath)
    }

    private func serviceError(_ response: HTTPClientResponse, _ call: Call, _ attempts: Int) -> S3Error {
        let root = try? XML.parse(response.body)
        let code = root?.value("Code") ?? Self.codeForStatus(response.status)
        return S3Error(
            kind: .service, operation: call.operation, bucket: call.bucket, key: call.key,
            httpStatus: response.status, code: code, message: root?.value("Message") ?? "",
            requestID: root?.value("RequestId") ?? response.headers["x-amz-request-id"],
            attempts: attempts,
            isRetriable: S3Error.isRetriable(status: response.status) || S3Error.retriableCodes.contains(code))
    }

    private func embeddedError(_ response: HTTPClientResponse, _ call: Call, _ attempts: Int) -> S3Error? {
        guard let root = try? XML.parse(response.body), root.name == "Error" else { return nil }
        let code = root.value("Code") ?? "InternalError"
        return S3Error(
            kind: .service, operation: call.operation, bucket: call.bucket, key: call.key,
            httpStatus: response.status, code: code, message: root.value("Message") ?? "",
            requestID: root.value("RequestId"), attempts: attempts,
            isRetriable: S3Error.retriableCodes.contains(code))
    }

    func failure(
        _ call: Call, kind: S3Error.Kind, code: String?, message: String, attempts: Int, retriable: Bool,
        status: Int? = nil
    ) -> S3Error {
        S3Error(
            kind: kind, operation: call.operation, bucket: call.bucket, key: call.key, httpStatus: status,
            code: code, message: message, requestID: nil, attempts: attempts, isRetriable: retriable)
    }

    /// A code for answers without a body (HEAD requests).
    static func codeForStatus(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 409: return "Conflict"
        case 412: return "PreconditionFailed"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}
