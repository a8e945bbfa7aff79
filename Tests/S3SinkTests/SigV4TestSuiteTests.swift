import Foundation
import XCTest

import PipelineCore
@testable import S3Sink

/// AWS's published SigV4 test suite (aws-sig-v4-test-suite): AKIDEXAMPLE,
/// 20150830T123600Z, us-east-1, service `service`, host example.amazonaws.com.
///
/// The suite's "normalize-path" vectors (`get-relative`, `get-slash-dot-slash`,
/// …) are left out on purpose: S3 does not normalise paths, a key may contain
/// `.` and `//`, so the S3 signer must not apply those rules.
final class SigV4TestSuiteTests: XCTestCase {
    static let credentials = Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let scope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

    func sign(
        _ method: String = "GET", _ path: String = "/", query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: String = "",
        credentials: Credentials = credentials
    ) -> SignedRequest {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let request = SigningRequest(
            method: method, path: path, query: query,
            headers: [(name: "Host", value: "example.amazonaws.com")] + headers)
        return signer.sign(
            request, payloadHash: SigV4Signer.payloadHash(of: Array(body.utf8)), date: Self.date)
    }

    func assertAuthorization(
        _ signed: SignedRequest, signedHeaders: String, signature: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=\(Self.scope), SignedHeaders=\(signedHeaders), Signature=\(signature)",
            file: file, line: line)
    }

    func testDateFormatting() {
        let date = AMZDate(Self.date)
        XCTAssertEqual(date.timestamp, "20150830T123600Z")
        XCTAssertEqual(date.dateStamp, "20150830")
    }

    func testSigningKeyDerivation() {
        // "Examples of how to derive a signing key": 20150830/us-east-1/iam.
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "iam")
        XCTAssertEqual(
            Digest.hex(signer.signingKey(dateStamp: "20150830")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    func testGetVanilla() {
        let signed = sign()
        XCTAssertEqual(
            signed.canonicalRequest,
            """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(
            signed.stringToSign,
            """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testGetVanillaQueryOrderKeyCase() {
        let signed = sign(query: [("Param2", "value2"), ("Param1", "value1")])
        XCTAssertEqual(signed.encodedQuery, "Param1=value1&Param2=value2")
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testGetVanillaQueryOrderValue() {
        let signed = sign(query: [("Param1", "value2"), ("Param1", "value1")])
        XCTAssertEqual(signed.encodedQuery, "Param1=value1&Param1=value2")
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")
    }

    func testGetVanillaUTF8Query() {
        let signed = sign(query: [("\u{1234}", "bar")])
        XCTAssertEqual(signed.encodedQuery, "%E1%88%B4=bar")
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")
    }

    func testGetUnreserved() {
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let signed = sign("GET", "/" + unreserved)
        XCTAssertEqual(signed.encodedPath, "/" + unreserved)
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")
    }

    func testGetUTF8Path() {
        let signed = sign("GET", "/\u{1234}")
        XCTAssertEqual(signed.encodedPath, "/%E1%88%B4")
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")
    }

    func testGetSpaceEncodedOnce() {
        let signed = sign("GET", "/example space/")
        XCTAssertEqual(signed.encodedPath, "/example%20space/")
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")
    }

    func testGetHeaderValueTrim() {
        let signed = sign(headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")])
        XCTAssertTrue(
            signed.canonicalRequest.contains("my-header1:value1\nmy-header2:\"a b c\"\n"),
            signed.canonicalRequest)
        assertAuthorization(
            signed, signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    func testGetHeaderValueOrder() {
        let signed = sign(headers: [
            ("My-Header1", "value4"), ("My-Header1", "value1"),
            ("My-Header1", "value3"), ("My-Header1", "value2"),
        ])
        XCTAssertTrue(signed.canonicalRequest.contains("my-header1:value4,value1,value3,value2\n"))
        assertAuthorization(
            signed, signedHeaders: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")
    }

    func testGetHeaderKeyDuplicate() {
        let signed = sign(headers: [
            ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1"),
        ])
        assertAuthorization(
            signed, signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")
    }

    func testPostVanilla() {
        assertAuthorization(
            sign("POST"), signedHeaders: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    func testPostVanillaQuery() {
        assertAuthorization(
            sign("POST", query: [("Param1", "value1")]), signedHeaders: "host;x-amz-date",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")
    }

    func testPostXWWWFormURLEncoded() {
        let signed = sign(
            "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: "Param1=value1")
        assertAuthorization(
            signed, signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    func testPostSTSHeaderBefore() {
        let token =
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var credentials = Self.credentials
        credentials.sessionToken = Secret(token)
        let signed = sign("POST", credentials: credentials)
        assertAuthorization(
            signed, signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
        XCTAssertTrue(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == token })
    }
}
