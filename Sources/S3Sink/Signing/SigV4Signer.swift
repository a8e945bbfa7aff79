import Foundation

/// An HTTP request before signing, in raw (unencoded) form.
///
/// The signer encodes the path and query once, in S3's way, and the client
/// sends exactly those encoded bytes, so what is signed is what travels.
public struct SigningRequest: Sendable {
    /// The HTTP method, `GET`, `PUT`, `POST`, `DELETE` or `HEAD`.
    public var method: String
    /// The raw path, for example `/bucket/my key+1.json`; not percent-encoded.
    public var path: String
    /// Raw query parameters, in any order; a parameter without value has `""`.
    public var query: [(name: String, value: String)]
    /// Header fields to sign and send. Must include `host`.
    public var headers: [(name: String, value: String)]

    /// A request with the given parts.
    public init(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// A signed request: the encoded target to send, the headers to send and,
/// for tests and diagnostics, the intermediate strings of the signature.
/// None of these contains the secret key.
public struct SignedRequest: Sendable {
    /// The percent-encoded path, as signed and as to be sent.
    public let encodedPath: String
    /// The canonical (sorted, encoded) query string, as signed and as to be sent.
    public let encodedQuery: String
    /// Every header to send, including `x-amz-date`, `x-amz-content-sha256`
    /// (for S3), `x-amz-security-token` (with a session token) and `Authorization`.
    public let headers: [(name: String, value: String)]
    /// The canonical request (step 1 of SigV4).
    public let canonicalRequest: String
    /// The string to sign (step 2).
    public let stringToSign: String
    /// The hex signature (step 4).
    public let signature: String
    /// The `Authorization` header value.
    public let authorization: String

    /// `encodedPath` followed by `?encodedQuery` when there is a query.
    public var target: String { encodedQuery.isEmpty ? encodedPath : encodedPath + "?" + encodedQuery }
}

/// AWS Signature Version 4 for S3 (header-based authentication).
///
/// Follows S3's rules where they differ from other services: the path is
/// not normalised and each segment is URI-encoded once, not twice.
public struct SigV4Signer: Sendable {
    /// The literal payload hash for bodies that are not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The credentials to sign with.
    public var credentials: Credentials
    /// The region of the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The service of the credential scope; `s3` for S3.
    public var service: String
    /// Whether to add (and sign) `x-amz-content-sha256`. S3 requires it;
    /// the generic SigV4 test suite does not use it.
    public var sendsContentSHA256: Bool

    /// A signer for `service` in `region`.
    public init(
        credentials: Credentials, region: String, service: String = "s3",
        sendsContentSHA256: Bool? = nil
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.sendsContentSHA256 = sendsContentSHA256 ?? (service == "s3")
    }

    /// The lower-case hex SHA-256 of a body, the value for `payloadHash`.
    public static func payloadHash<Bytes: Collection>(of body: Bytes) -> String
    where Bytes.Element == UInt8 {
        Digest.sha256Hex(body)
    }

    /// Signs `request` at `date` for a body whose hash is `payloadHash`
    /// (hex SHA-256 or ``unsignedPayload``).
    public func sign(_ request: SigningRequest, payloadHash: String, date: Date) -> SignedRequest {
        let amzDate = AMZDate(date)
        var headers = request.headers.filter { field in
            // These are ours to set; a stale copy would be signed twice.
            let name = field.name.lowercased()
            return name != "authorization" && name != "x-amz-date"
                && name != "x-amz-content-sha256" && name != "x-amz-security-token"
        }
        headers.append((name: "x-amz-date", value: amzDate.timestamp))
        if sendsContentSHA256 {
            headers.append((name: "x-amz-content-sha256", value: payloadHash))
        }
        if let token = credentials.sessionToken {
            headers.append((name: "x-amz-security-token", value: token.value))
        }

        let encodedPath = URIEncoding.encodePath(request.path)
        let encodedQuery = Self.canonicalQuery(request.query)
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [
            request.method.uppercased(), encodedPath, encodedQuery,
            canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")

        let scope = "\(amzDate.dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate.timestamp, scope,
            Digest.sha256Hex(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        let key = signingKey(dateStamp: amzDate.dateStamp)
        let signature = Digest.hex(Digest.hmacSHA256(key: key, message: stringToSign))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append((name: "Authorization", value: authorization))

        return SignedRequest(
            encodedPath: encodedPath, encodedQuery: encodedQuery, headers: headers,
            canonicalRequest: canonicalRequest, stringToSign: stringToSign,
            signature: signature, authorization: authorization)
    }

    /// The signing key: HMAC chain over date, region, service, `aws4_request`.
    func signingKey(dateStamp: String) -> [UInt8] {
        let secret = Array(("AWS4" + credentials.secretAccessKey.value).utf8)
        let dateKey = Digest.hmacSHA256(key: secret, message: dateStamp)
        let regionKey = Digest.hmacSHA256(key: dateKey, message: region)
        let serviceKey = Digest.hmacSHA256(key: regionKey, message: service)
        return Digest.hmacSHA256(key: serviceKey, message: "aws4_request")
    }

    /// Name and value encoded, then sorted by encoded name and value
    /// (byte order), joined as `a=1&b=2`. A name without value gets `=`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query
            .map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { lhs, rhs in
                lhs.0 != rhs.0 ? lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8)
                    : lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Canonical header block (each `name:value\n`) and the signed-header list.
    ///
    /// Names are lower-cased and sorted; values are trimmed and inner runs
    /// of spaces collapsed to one; repeated names join their values with `,`
    /// in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var values: [String: [String]] = [:]
        for field in headers {
            values[field.name.lowercased(), default: []].append(normalize(field.value))
        }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Trims surrounding white space and collapses inner runs of spaces and
    /// tabs into a single space.
    static func normalize(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
