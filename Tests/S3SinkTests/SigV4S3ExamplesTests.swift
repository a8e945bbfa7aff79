import Foundation
import XCTest

@testable import S3Sink

/// The signed examples in the S3 API reference ("Signature Calculations for
/// the Authorization Header: Transferring Payload in a Single Chunk"):
/// AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1, examplebucket.
final class SigV4S3ExamplesTests: XCTestCase {
    static let signer = SigV4Signer(
        credentials: Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let host = (name: "Host", value: "examplebucket.s3.amazonaws.com")
    static let prefix = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "

    func testGetObjectWithRange() {
        let request = SigningRequest(
            method: "GET", path: "/test.txt", headers: [Self.host, ("Range", "bytes=0-9")])
        let signed = Self.signer.sign(request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.date)
        XCTAssertEqual(
            signed.canonicalRequest,
            """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(
            signed.stringToSign,
            """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        XCTAssertEqual(
            signed.authorization,
            Self.prefix + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testPutObject() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = SigV4Signer.payloadHash(of: body)
        XCTAssertEqual(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigningRequest(
            method: "PUT", path: "/test$file.text",
            headers: [
                Self.host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ])
        let signed = Self.signer.sign(request, payloadHash: hash, date: Self.date)
        XCTAssertEqual(signed.encodedPath, "/test%24file.text")
        XCTAssertEqual(
            signed.authorization,
            Self.prefix + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    func testGetBucketLifecycle() {
        let request = SigningRequest(
            method: "GET", path: "/", query: [("lifecycle", "")], headers: [Self.host])
        let signed = Self.signer.sign(request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.date)
        XCTAssertEqual(signed.encodedQuery, "lifecycle=")
        XCTAssertEqual(
            signed.authorization,
            Self.prefix + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    func testListObjectsSortsTheQuery() {
        // Given out of order on purpose: the canonical query must sort.
        let request = SigningRequest(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [Self.host])
        let signed = Self.signer.sign(request, payloadHash: SigV4Signer.emptyPayloadHash, date: Self.date)
        XCTAssertEqual(signed.target, "/?max-keys=2&prefix=J")
        XCTAssertEqual(
            signed.authorization,
            Self.prefix + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    func testUnsignedPayloadIsSignedLiterally() {
        let request = SigningRequest(method: "PUT", path: "/k", headers: [Self.host])
        let signed = Self.signer.sign(request, payloadHash: SigV4Signer.unsignedPayload, date: Self.date)
        XCTAssertTrue(signed.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        XCTAssertTrue(signed.headers.contains { $0 == ("x-amz-content-sha256", "UNSIGNED-PAYLOAD") })
    }

    func testS3KeyEncoding() {
        // Every character the issue names is encoded once; `/` separates
        // segments and stays; nothing is normalised.
        XCTAssertEqual(
            URIEncoding.encodePath("/b/a+b=c:d@e(f)g!h*i'j,k;l$m n"),
            "/b/a%2Bb%3Dc%3Ad%40e%28f%29g%21h%2Ai%27j%2Ck%3Bl%24m%20n")
        XCTAssertEqual(URIEncoding.encodePath("/b/./x//y/../z"), "/b/./x//y/../z")
        XCTAssertEqual(URIEncoding.encodePath("/b/100%"), "/b/100%25")
        XCTAssertEqual(URIEncoding.encode("a/b"), "a%2Fb")
        XCTAssertEqual(
            SigV4Signer.canonicalQuery([("delimiter", "/"), ("prefix", "a b+"), ("list-type", "2")]),
            "delimiter=%2F&list-type=2&prefix=a%20b%2B")
    }

    func testSecretsNeverPrinted() {
        let credentials = Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: "TOKEN-VALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [
            "\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped,
            "\(SigV4Signer(credentials: credentials, region: "us-east-1"))",
        ] {
            XCTAssertFalse(text.contains("EXAMPLEKEY"), text)
            XCTAssertFalse(text.contains("TOKEN-VALUE"), text)
        }
        XCTAssertTrue("\(credentials)".contains("AKIAIOSFODNN7EXAMPLE"))
    }

    func testCredentialsFromEnvironment() throws {
        let credentials = try Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
        ])
        XCTAssertEqual(credentials.accessKeyID, "id")
        XCTAssertEqual(credentials.secretAccessKey.value, "secret")
        XCTAssertEqual(credentials.sessionToken?.value, "token")
        XCTAssertThrowsError(try Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "id"])) { error in
            XCTAssertEqual(error as? CredentialsError, .missing("AWS_SECRET_ACCESS_KEY"))
        }
    }
}
