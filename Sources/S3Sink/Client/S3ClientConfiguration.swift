import Foundation
import PipelineCore

/// Everything an ``S3Client`` needs: where S3 is, how to address buckets,
/// whose credentials to sign with and how to retry.
public struct S3ClientConfiguration: Sendable {
    /// How the bucket appears in requests.
    public enum Addressing: Sendable, Equatable {
        /// Path style for an endpoint override (MinIO, moto, …), virtual-hosted for AWS.
        case automatic
        /// `https://endpoint/bucket/key`.
        case pathStyle
        /// `https://bucket.endpoint/key`.
        case virtualHosted
    }

    /// The region of the bucket, used in the signature scope.
    public var region: String
    /// The credentials to sign with.
    public var credentials: Credentials
    /// An endpoint override, e.g. `http://127.0.0.1:9000` (Confluent's `store.url`);
    /// `nil` means AWS: `https://s3.<region>.amazonaws.com`.
    public var endpoint: String?
    /// Path-style or virtual-hosted addressing.
    public var addressing: Addressing
    /// Retries for throttling, 5xx answers and network faults.
    public var retry: RetryPolicy
    /// How long to wait for a TCP (and TLS) connection.
    public var connectTimeout: Duration
    /// The longest a single request may take, transfer included.
    public var requestTimeout: Duration
    /// A transfer that moves no data for this long is aborted (and retried).
    public var stallTimeout: Duration

    /// A configuration with explicit credentials.
    public init(
        region: String, credentials: Credentials, endpoint: String? = nil,
        addressing: Addressing = .automatic, retry: RetryPolicy = .standard,
        connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(300),
        stallTimeout: Duration = .seconds(30)
    ) {
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint
        self.addressing = addressing
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.stallTimeout = stallTimeout
    }
}

/// A parsed endpoint: scheme, host, optional port and path prefix.
struct Endpoint: Sendable, Equatable {
    var scheme: String
    var host: String
    var port: Int?
    var basePath: String

    init(scheme: String, host: String, port: Int?, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `http(s)://host[:port][/prefix]`.
    init?(_ text: String) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        self.init(scheme: scheme, host: host.lowercased(), port: components.port, basePath: path)
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    func authority(host: String) -> String {
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else {
            return host
        }
        return "\(host):\(port)"
    }
}
