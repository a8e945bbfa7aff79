import Foundation
import PipelineCore
import S3Sink
import XCTest

/// The S3 client against the real (moto) S3 server with signature checking on.
final class S3ClientTests: XCTestCase {
    func testPutGetHeadDeleteRoundTrip() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let key = S3TestEnvironment.uniquePrefix() + "object.json"
        let body = Array("{\"id\":1}\n{\"id\":2}\n".utf8)

        let etag = try await client.putObject(bucket: env.bucket, key: key, body: body, contentType: "application/json")
        XCTAssertFalse(etag.isEmpty)
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(read, body)
        let head = try await client.headObject(bucket: env.bucket, key: key)
        XCTAssertEqual(head?.size, body.count)
        XCTAssertEqual(head?.etag, etag)
        let range = try await client.getObject(bucket: env.bucket, key: key, range: 2...5)
        XCTAssertEqual(range, Array(body[2...5]))

        try await client.deleteObject(bucket: env.bucket, key: key)
        let gone = try await client.headObject(bucket: env.bucket, key: key)
        XCTAssertNil(gone)
        let error = await expectS3Error { _ = try await client.getObject(bucket: env.bucket, key: key) }
        XCTAssertEqual(error?.code, "NoSuchKey")
        XCTAssertEqual(error?.httpStatus, 404)
        XCTAssertEqual(error?.key, key)
        XCTAssertEqual(error?.isRetriable, false)
    }

    func testEmptyObject() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let key = S3TestEnvironment.uniquePrefix() + "empty"
        try await client.putObject(bucket: env.bucket, key: key, body: [])
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(read, [])
    }

    func testKeysWithReservedCharacters() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let prefix = S3TestEnvironment.uniquePrefix()
        let names = [
            "plus+sign", "equals=sign", "colon:x", "at@x", "(parens)", "bang!", "star*", "quote'x",
            "comma,x", "semi;colon", "dollar$x", "with space", "all + = : @ ( ) ! * ' , ; $ end",
            "ümlaut-€", "tilde~dot.dash-under_", "percent%20literal", "amp&x", "question?x",
            "hash#x", "double//slash", "dot/./segment",
        ]
        for (index, name) in names.enumerated() {
            try await client.putObject(bucket: env.bucket, key: prefix + name, body: Array("\(index)".utf8))
        }
        for (index, name) in names.enumerated() {
            let read = try await client.getObject(bucket: env.bucket, key: prefix + name)
            XCTAssertEqual(String(decoding: read, as: UTF8.self), "\(index)", name)
        }
        let listed = try await client.listAllObjects(bucket: env.bucket, prefix: prefix)
        XCTAssertEqual(Set(listed.objects.map(\.key)), Set(names.map { prefix + $0 }))
        for name in names { try await client.deleteObject(bucket: env.bucket, key: prefix + name) }
        let after = try await client.listAllObjects(bucket: env.bucket, prefix: prefix)
        XCTAssertEqual(after.objects, [])
    }

    func testDelimiterListing() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let prefix = S3TestEnvironment.uniquePrefix()
        for key in ["a/1", "a/2", "b=1/x", "b=1/y", "c", "d e/f"] {
            try await client.putObject(bucket: env.bucket, key: prefix + key, body: [1])
        }
        let page = try await client.listObjectsV2(bucket: env.bucket, prefix: prefix, delimiter: "/")
        XCTAssertEqual(page.objects.map(\.key), [prefix + "c"])
        XCTAssertEqual(Set(page.commonPrefixes), Set(["a/", "b=1/", "d e/"].map { prefix + $0 }))
        XCTAssertNil(page.nextContinuationToken)
    }

    func testListingFollowsContinuationTokens() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let prefix = S3TestEnvironment.uniquePrefix()
        let keys = (0..<7).map { prefix + "k\($0)" }
        for key in keys { try await client.putObject(bucket: env.bucket, key: key, body: [2]) }

        let first = try await client.listObjectsV2(bucket: env.bucket, prefix: prefix, maxKeys: 3)
        XCTAssertEqual(first.objects.count, 3)
        XCTAssertNotNil(first.nextContinuationToken)
        var seen = first.objects.map(\.key)
        var token = first.nextContinuationToken
        while let current = token {
            let page = try await client.listObjectsV2(
                bucket: env.bucket, prefix: prefix, continuationToken: current, maxKeys: 3)
            seen += page.objects.map(\.key)
            token = page.nextContinuationToken
        }
        XCTAssertEqual(seen, keys)
        let all = try await client.listAllObjects(bucket: env.bucket, prefix: prefix)
        XCTAssertEqual(all.objects.map(\.key), keys)
        XCTAssertEqual(all.objects.first?.size, 1)
    }

    func testMultipartUpload() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let key = S3TestEnvironment.uniquePrefix() + "big + odd=name.bin"
        let partSize = S3Client.minimumPartSize
        let body = testBytes(count: 2 * partSize + 1234)

        try await client.upload(bucket: env.bucket, key: key, body: body, partSize: partSize)
        let head = try await client.headObject(bucket: env.bucket, key: key)
        XCTAssertEqual(head?.size, body.count)
        XCTAssertTrue(head?.etag.hasSuffix("-3\"") ?? false, head?.etag ?? "no object")
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(read.count, body.count)
        XCTAssertTrue(read == body, "multipart object differs from what was uploaded")
        try await client.deleteObject(bucket: env.bucket, key: key)
    }

    func testMultipartAbortLeavesNoObject() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let key = S3TestEnvironment.uniquePrefix() + "aborted"
        let uploadID = try await client.createMultipartUpload(bucket: env.bucket, key: key)
        _ = try await client.uploadPart(
            bucket: env.bucket, key: key, uploadID: uploadID, partNumber: 1, body: testBytes(count: 1000))
        try await client.abortMultipartUpload(bucket: env.bucket, key: key, uploadID: uploadID)
        let head = try await client.headObject(bucket: env.bucket, key: key)
        XCTAssertNil(head)
        // The upload is gone: a second abort names it as unknown. (Completing
        // it would be the natural check, but moto answers that with a 500.)
        let error = await expectS3Error {
            try await client.abortMultipartUpload(bucket: env.bucket, key: key, uploadID: uploadID)
        }
        XCTAssertEqual(error?.code, "NoSuchUpload")
        XCTAssertEqual(error?.httpStatus, 404)
    }

    func testMultipartRejectsSmallParts() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        let key = S3TestEnvironment.uniquePrefix() + "small-parts"
        let uploadID = try await client.createMultipartUpload(bucket: env.bucket, key: key)
        var parts: [CompletedPart] = []
        for number in 1...2 {
            parts.append(
                try await client.uploadPart(
                    bucket: env.bucket, key: key, uploadID: uploadID, partNumber: number,
                    body: testBytes(count: 1024)))
        }
        let error = await expectS3Error {
            try await client.completeMultipartUpload(bucket: env.bucket, key: key, uploadID: uploadID, parts: parts)
        }
        XCTAssertEqual(error?.code, "EntityTooSmall")
        XCTAssertEqual(error?.operation, "CompleteMultipartUpload")
        try await client.abortMultipartUpload(bucket: env.bucket, key: key, uploadID: uploadID)
    }

    func testWrongSecretFailsWithSignatureDoesNotMatch() async throws {
        let env = try S3TestEnvironment.load()
        let wrongSecret = "not-the-secret-" + String(UUID().uuidString.prefix(12))
        let client = try env.client(
            credentials: Credentials(accessKeyID: env.credentials.accessKeyID, secretAccessKey: wrongSecret))
        let key = S3TestEnvironment.uniquePrefix() + "denied"
        let error = await expectS3Error {
            try await client.putObject(bucket: env.bucket, key: key, body: [1, 2, 3])
        }
        XCTAssertEqual(error?.kind, .service)
        XCTAssertEqual(error?.httpStatus, 403)
        XCTAssertEqual(error?.code, "SignatureDoesNotMatch")
        XCTAssertEqual(error?.attempts, 1, "an authentication failure must not be retried")
        let text = error.map { "\($0)" } ?? ""
        XCTAssertTrue(text.contains("PutObject"), text)
        XCTAssertTrue(text.contains("SignatureDoesNotMatch"), text)
        XCTAssertTrue(text.contains(key), text)
        XCTAssertFalse(text.contains(wrongSecret), "the secret leaked into: \(text)")
        XCTAssertFalse(text.contains(env.credentials.secretAccessKey.value), "the secret leaked into: \(text)")
    }

    func testVirtualHostedAddressing() async throws {
        let env = try S3TestEnvironment.load()
        // `<bucket>.localhost` resolves to loopback in libcurl, and moto reads
        // the bucket from the Host header's first label.
        guard let port = URLComponents(string: env.endpoint)?.port else {
            return XCTFail("endpoint \(env.endpoint) has no port")
        }
        let client = try env.client(endpoint: "http://localhost:\(port)", addressing: .virtualHosted)
        let key = S3TestEnvironment.uniquePrefix() + "virtual (host).json"
        try await client.putObject(bucket: env.bucket, key: key, body: Array("v".utf8))
        let read = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(read, Array("v".utf8))
        let page = try await client.listObjectsV2(bucket: env.bucket, prefix: key)
        XCTAssertEqual(page.objects.map(\.key), [key])
        // The same object through path-style addressing.
        let pathStyle = try await env.client().getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(pathStyle, read)
    }

    func testHeadBucket() async throws {
        let env = try S3TestEnvironment.load()
        let client = try env.client()
        try await client.headBucket(bucket: env.bucket)
        let error = await expectS3Error { try await client.headBucket(bucket: "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())") }
        XCTAssertEqual(error?.httpStatus, 404)
        XCTAssertEqual(error?.operation, "HeadBucket")
    }

    func testUnreachableEndpointIsATransportError() async throws {
        let env = try S3TestEnvironment.load()
        // Port 1 on loopback refuses connections at once.
        let client = try env.client(
            endpoint: "http://127.0.0.1:1",
            retry: RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(1), maxDelay: .milliseconds(1)))
        let error = await expectS3Error { try await client.headBucket(bucket: env.bucket) }
        XCTAssertEqual(error?.kind, .transport)
        XCTAssertEqual(error?.isRetriable, true)
        XCTAssertEqual(error?.attempts, 2)
        XCTAssertEqual(client.statistics.retries, 1)
    }
}
