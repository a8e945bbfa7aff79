import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Pure parts of the client: addressing, endpoints, retry delays, XML.
final class S3ClientUnitTests: XCTestCase {
    let credentials = Credentials(accessKeyID: "AKID", secretAccessKey: "secret")

    func client(endpoint: String?, addressing: S3ClientConfiguration.Addressing = .automatic) throws -> S3Client {
        try S3Client(
            configuration: S3ClientConfiguration(
                region: "eu-west-1", credentials: credentials, endpoint: endpoint, addressing: addressing))
    }

    func testAWSDefaultsToVirtualHostedAddressing() throws {
        let aws = try client(endpoint: nil)
        XCTAssertEqual(aws.endpoint, Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com", port: nil, basePath: ""))
        XCTAssertTrue(aws.address(bucket: "logs", key: "a/b.json") == ("logs.s3.eu-west-1.amazonaws.com", "/a/b.json"))
        XCTAssertTrue(aws.address(bucket: "logs", key: nil) == ("logs.s3.eu-west-1.amazonaws.com", "/"))
        // A dotted bucket would not match the wildcard certificate.
        XCTAssertTrue(aws.address(bucket: "my.logs", key: "k") == ("s3.eu-west-1.amazonaws.com", "/my.logs/k"))
    }

    func testEndpointOverrideDefaultsToPathStyle() throws {
        let local = try client(endpoint: "http://127.0.0.1:9000/")
        XCTAssertTrue(local.address(bucket: "b", key: "k") == ("127.0.0.1:9000", "/b/k"))
        XCTAssertTrue(local.address(bucket: "b", key: nil) == ("127.0.0.1:9000", "/b"))
        let forced = try client(endpoint: "https://minio.local:443/s3", addressing: .virtualHosted)
        XCTAssertTrue(forced.address(bucket: "b", key: "k") == ("b.minio.local", "/s3/k"))
        let path = try client(endpoint: nil, addressing: .pathStyle)
        XCTAssertTrue(path.address(bucket: "b", key: "k") == ("s3.eu-west-1.amazonaws.com", "/b/k"))
    }

    func testInvalidEndpointIsRejected() {
        XCTAssertThrowsError(try client(endpoint: "ftp://x")) { error in
            XCTAssertEqual((error as? S3Error)?.code, "InvalidEndpoint")
        }
        XCTAssertThrowsError(try client(endpoint: "not a url"))
    }

    func testRetryDelaysGrowAndAreCapped() {
        let policy = RetryPolicy(maxAttempts: 10, initialDelay: .milliseconds(100), maxDelay: .seconds(2))
        var backoff = policy.backoff
        for attempt in 1...12 {
            let ceiling = min(100 << (attempt - 1), 2000)
            let delay = backoff.nextDelayMilliseconds()
            XCTAssertGreaterThanOrEqual(delay, ceiling / 2, "attempt \(attempt)")
            XCTAssertLessThanOrEqual(delay, ceiling, "attempt \(attempt)")
        }
        XCTAssertEqual(RetryPolicy.none.maxAttempts, 1)
    }

    func testRetriableClassification() {
        for status in [500, 502, 503, 504, 429, 408] { XCTAssertTrue(S3Error.isRetriable(status: status)) }
        for status in [400, 403, 404, 409] { XCTAssertFalse(S3Error.isRetriable(status: status)) }
        XCTAssertTrue(S3Error.retriableCodes.contains("SlowDown"))
        XCTAssertTrue(S3Error.retriableCodes.contains("RequestTimeout"))
        XCTAssertFalse(S3Error.retriableCodes.contains("SignatureDoesNotMatch"))
    }

    func testErrorDescriptionNamesEverything() {
        let error = S3Error(
            kind: .service, operation: "PutObject", bucket: "b", key: "topics/x.json", httpStatus: 503,
            code: "SlowDown", message: "Please reduce your request rate.", requestID: "R1", attempts: 10,
            isRetriable: true)
        XCTAssertEqual(
            "\(error)",
            "S3 PutObject s3://b/topics/x.json failed: HTTP 503 SlowDown: Please reduce your request rate. "
                + "(request id R1, 10 attempts)")
    }

    func testXMLParsing() throws {
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- listing -->
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name><IsTruncated>false</IsTruncated>
              <Contents><Key>a &amp; b &lt;c&gt; &#39;d&#x27; &quot;</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag></Contents>
              <Contents><Key><![CDATA[x&y]]></Key><Size/></Contents>
              <s3:CommonPrefixes><Prefix>p/</Prefix></s3:CommonPrefixes>
            </ListBucketResult>
            """
        let root = try XML.parse(Array(document.utf8))
        XCTAssertEqual(root.name, "ListBucketResult")
        XCTAssertEqual(root.value("IsTruncated"), "false")
        let contents = root.children("Contents")
        XCTAssertEqual(contents.count, 2)
        XCTAssertEqual(contents[0].value("Key"), "a & b <c> 'd' \"")
        XCTAssertEqual(contents[0].value("ETag"), "\"abc\"")
        XCTAssertEqual(contents[1].value("Key"), "x&y")
        XCTAssertEqual(contents[1].value("Size"), "")
        XCTAssertEqual(root.child("CommonPrefixes")?.value("Prefix"), "p/")
        XCTAssertThrowsError(try XML.parse(Array("<a><b></a>".utf8)))
        XCTAssertThrowsError(try XML.parse(Array("".utf8)))
        XCTAssertEqual(XML.escape("\"e\" & <t>"), "&quot;e&quot; &amp; &lt;t&gt;")
    }
}
