import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// The sink's core against the real (moto) S3, fed messages directly.
final class S3SinkTaskTests: XCTestCase {
    func testFlushSizeWritesConfluentObjectsAndCommitsAfterUpload() async throws {
        let env = try S3TestEnvironment.load()
        let config = env.sinkConfig(flushSize: 5)
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer)

        try await task.put(SinkFixtures.messages(topic: "P_USERS", partition: 0, offsets: 0..<12))
        try await task.put(SinkFixtures.messages(topic: "P_USERS", partition: 1, offsets: 0..<5))

        let dir = config.naming.topicsDir
        let objects = try await env.objects(under: dir + "/", client: client)
        XCTAssertEqual(
            Set(objects.keys),
            [
                "\(dir)/P_USERS/partition=0/P_USERS+0+0000000000.json",
                "\(dir)/P_USERS/partition=0/P_USERS+0+0000000005.json",
                "\(dir)/P_USERS/partition=1/P_USERS+1+0000000000.json",
            ])
        XCTAssertEqual(
            lines(objects["\(dir)/P_USERS/partition=0/P_USERS+0+0000000005.json"]!), (5..<10).map { SinkFixtures.line(id: $0) })
        // Offsets are committed once per uploaded batch, never ahead of S3.
        XCTAssertEqual(
            log.commits.value,
            [[TopicPartition("P_USERS", 0): 5], [TopicPartition("P_USERS", 0): 10], [TopicPartition("P_USERS", 1): 5]])
        XCTAssertEqual(task.partitionsWithOpenFiles, [TopicPartition("P_USERS", 0)], "offsets 10 and 11 are still open")
        XCTAssertEqual(task.statistics.objectsUploaded, 3)
        XCTAssertEqual(task.statistics.recordsWritten, 17)

        // Stopping drops the open file: nothing of offsets 10–11 reaches S3.
        await task.close()
        let after = try await env.objects(under: dir + "/", client: client)
        XCTAssertEqual(after.count, 3)
    }

    func testSchemalessJSONIsWrittenAsIs() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 2)
        config.valueSchemasEnabled = false
        let client = try env.client()
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        let documents = ["{\"b\":1,\"a\":[true,null,\"x\"]}", "{\"nested\":{\"z\":2.5}}"]
        try await task.put(
            documents.enumerated().map { index, text in
                KafkaMessage(topic: "logs", partition: 0, offset: Int64(index), key: nil, value: Array(text.utf8))
            })
        let key = "\(config.naming.topicsDir)/logs/partition=0/logs+0+0000000000.json"
        let body = try await client.getObject(bucket: env.bucket, key: key)
        XCTAssertEqual(lines(body), documents)
    }

    func testReplayAfterCrashRebuildsIdenticalObjects() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 7)
        config.compression = .gzip
        let client = try env.client()
        let messages = SinkFixtures.messages(topic: "P_USERS", offsets: 0..<30)
        let dir = config.naming.topicsDir + "/"

        // First life: dies (no close) after 17 records; 14 are committed.
        let firstLog = CommitLog()
        let first = try S3SinkTask(config: config, client: client, commit: firstLog.committer)
        try await first.put(Array(messages[0..<17]))
        let committed = firstLog.last[TopicPartition("P_USERS", 0)]!
        XCTAssertEqual(committed, 14)
        let firstObjects = try await env.objects(under: dir, client: client)

        // An object uploaded but not committed: delete nothing, just replay
        // from the committed offset as a restarted consumer would.
        let secondLog = CommitLog()
        let second = try S3SinkTask(config: config, client: client, commit: secondLog.committer)
        try await second.put(Array(messages[Int(committed)...]))
        let finalObjects = try await env.objects(under: dir, client: client)

        for (key, bytes) in firstObjects { XCTAssertEqual(finalObjects[key], bytes, "\(key) changed on rebuild") }
        XCTAssertEqual(finalObjects.count, 4)
        var seen: [String] = []
        for key in finalObjects.keys.sorted() {
            XCTAssertTrue(key.hasSuffix(".json.gz"), key)
            seen += lines(try gunzip(finalObjects[key]!))
        }
        XCTAssertEqual(seen, (0..<28).map { SinkFixtures.line(id: $0) }, "every record exactly once, in order")
    }

    func testFieldPartitionerSplitsFilesButRotatesTogether() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 6)
        config.partitioner = .field(["region"])
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer)
        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<6))

        let dir = config.naming.topicsDir
        let objects = try await env.objects(under: dir + "/", client: client)
        XCTAssertEqual(
            Set(objects.keys),
            [
                "\(dir)/P_USERS/region=eu/P_USERS+0+0000000000.json", "\(dir)/P_USERS/region=us/P_USERS+0+0000000001.json",
                "\(dir)/P_USERS/region=ap/P_USERS+0+0000000002.json",
            ])
        XCTAssertEqual(lines(objects["\(dir)/P_USERS/region=us/P_USERS+0+0000000001.json"]!), [1, 4].map { SinkFixtures.line(id: $0) })
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 6])
    }

    func testTimeBasedPartitionerWithRecordTimeRotation() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 1000)
        config.timeZone = "UTC"
        config.partitioner = .timeBased(
            pathFormat: "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/'minute'=mm", durationMilliseconds: 60_000,
            extractor: .recordField("created"))
        config.rotation.rotateIntervalMilliseconds = 60_000
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer)
        // created = 1_700_000_000_000 + id s: 2023-11-14T22:13:20Z onwards;
        // minutes change at ids 40 and 100, where the files rotate.
        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<101))

        let dir = config.naming.topicsDir
        let objects = try await env.objects(under: dir + "/", client: client)
        XCTAssertEqual(
            objects.keys.sorted(),
            [
                "\(dir)/P_USERS/year=2023/month=11/day=14/hour=22/minute=13/P_USERS+0+0000000000.json",
                "\(dir)/P_USERS/year=2023/month=11/day=14/hour=22/minute=14/P_USERS+0+0000000040.json",
            ])
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 100])
        XCTAssertEqual(task.partitionsWithOpenFiles, [TopicPartition("P_USERS", 0)], "minute 15 is still open")
    }

    func testScheduledRotationUploadsOnTheWallClock() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 1000)
        config.rotation.scheduleIntervalMilliseconds = 6000
        let clock = TestClock()
        clock.now.withLock { $0 = 1_700_000_004_000 }  // a whole number of 6 s slots after midnight UTC
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer, clock: clock.read)

        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<3))
        clock.advance(by: 5999)
        try await task.tick()
        XCTAssertEqual(log.commits.value.count, 0, "the slot has not ended")
        clock.advance(by: 1)
        try await task.tick()
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 3])
        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 3..<4))
        clock.advance(by: 6000)
        try await task.tick()
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 4])

        let dir = config.naming.topicsDir
        let objects = try await env.objects(under: dir + "/", client: client)
        XCTAssertEqual(
            objects.keys.sorted(),
            ["\(dir)/P_USERS/partition=0/P_USERS+0+0000000000.json", "\(dir)/P_USERS/partition=0/P_USERS+0+0000000003.json"])
    }

    func testWallClockRecordTimeRotatesWhileIdle() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 1000)
        config.partitioner = .timeBased(pathFormat: "'hour'=HH", durationMilliseconds: 3_600_000, extractor: .wallclock)
        config.rotation.rotateIntervalMilliseconds = 10_000
        let clock = TestClock()
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer, clock: clock.read)
        try await task.put(SinkFixtures.messages(topic: "P_USERS", offsets: 0..<2))
        clock.advance(by: 9_999)
        try await task.tick()
        XCTAssertTrue(log.commits.value.isEmpty)
        clock.advance(by: 1)
        try await task.tick()
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 2])
    }

    func testLargeFilesStreamAsMultipartParts() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 12)
        config.format = .byteArray(separator: Array("\n".utf8), fileExtension: ".bin")
        config.partSize = S3Client.minimumPartSize
        let client = try env.client()
        let log = CommitLog()
        let task = try S3SinkTask(config: config, client: client, commit: log.committer)
        // 12 records of 1 MiB: two full parts and a tail, streamed while writing.
        let messages = (0..<12).map { offset in
            KafkaMessage(
                topic: "P_USERS", partition: 0, offset: Int64(offset), key: nil,
                value: [UInt8](repeating: UInt8(ascii: "a") + UInt8(offset), count: 1 << 20))
        }
        try await task.put(messages)
        let key = "\(config.naming.topicsDir)/P_USERS/partition=0/P_USERS+0+0000000000.bin"
        let head = try await client.headObject(bucket: env.bucket, key: key)
        XCTAssertEqual(head?.size, 12 * ((1 << 20) + 1))
        XCTAssertTrue(head?.etag.hasSuffix("-3\"") ?? false, "uploaded in 3 parts: \(head?.etag ?? "-")")
        let body = try await client.getObject(bucket: env.bucket, key: key, range: (1 << 20)...((1 << 20) + 1))
        XCTAssertEqual(body, [UInt8(ascii: "\n"), UInt8(ascii: "b")])
    }

    func testGzipFilesStreamAsMultipartPartsThatDecompressToTheRecords() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 13)
        config.format = .byteArray(separator: Array("\n".utf8), fileExtension: ".bin")
        config.compression = .gzip
        config.compressionLevel = 1
        config.partSize = S3Client.minimumPartSize
        // 13 records of 700,000 random bytes, which gzip cannot shrink: the
        // compressed stream crosses the 5 MiB part size mid-record, so parts
        // are cut from a buffer that keeps the rest.
        let messages = SinkFixtures.randomBytes(count: 13, size: 700_000, seed: 11)
        let object = try await env.writeFirstObject(messages, config: config)
        XCTAssertTrue(object.etag.hasSuffix("-2\""), "uploaded in 2 parts: \(object.etag)")
        XCTAssertEqual(try gunzip(object.body), messages.flatMap { $0.value! + Array("\n".utf8) })
    }

    func testGzipAppendsToWhatTheBufferHolds() throws {
        let writer = GzipWriter(level: 1)
        var buffer: [UInt8] = Array("kept".utf8)
        writer.append(Array("hello, ".utf8), to: &buffer)
        writer.append(Array("world".utf8), to: &buffer)
        writer.finish(to: &buffer)
        XCTAssertEqual(Array(buffer.prefix(4)), Array("kept".utf8))
        XCTAssertEqual(try gunzip(Array(buffer.dropFirst(4))), Array("hello, world".utf8))
    }

    func testManyOpenFilesShareTheBufferBudget() async throws {
        let budget = BufferBudget(totalBytes: 64 << 20, configuredPartSize: 25 << 20)
        XCTAssertEqual(budget.partSize, 25 << 20)
        budget.openFiles = 4
        XCTAssertEqual(budget.partSize, 16 << 20)
        budget.openFiles = 100
        XCTAssertEqual(budget.partSize, S3Client.minimumPartSize)

        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 12)
        config.format = .byteArray(separator: [], fileExtension: ".bin")
        config.partitioner = .field(["region"])
        config.bufferBudget = 10 << 20  // two open files: 5 MiB parts instead of 25
        let client = try env.client()
        let task = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        // 12 records of 1 MiB alternating between two regions: two files of 6 MiB.
        let messages = (0..<12).map { offset in
            let region = offset % 2 == 0 ? "eu" : "us"
            let padding = String(repeating: "x", count: (1 << 20) - 40)
            return KafkaMessage(
                topic: "P_USERS", partition: 0, offset: Int64(offset), key: nil,
                value: Array("{\"schema\":null,\"payload\":{\"region\":\"\(region)\",\"p\":\"\(padding)\"}}".utf8))
        }
        try await task.put(messages)
        for (region, start) in [("eu", 0), ("us", 1)] {
            let key = "\(config.naming.topicsDir)/P_USERS/region=\(region)/P_USERS+0+000000000\(start).bin"
            let head = try await client.headObject(bucket: env.bucket, key: key)
            XCTAssertEqual(head?.size, messages.filter { $0.offset % 2 == Int64(start) }.reduce(0) { $0 + $1.value!.count })
            XCTAssertTrue(head?.etag.hasSuffix("-2\"") ?? false, "\(region) in two parts: \(head?.etag ?? "-")")
        }
    }

    func testNullValuesFailOrAreIgnored() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 3)
        let client = try env.client()
        var messages = SinkFixtures.messages(topic: "P_USERS", offsets: 0..<5)
        messages[1].value = nil

        let failing = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        do {
            try await failing.put(messages)
            XCTFail("a tombstone must stop the sink by default")
        } catch let error as NullValueError {
            XCTAssertEqual(error.position, "P_USERS-0@1")
        }

        config.nullValues = .ignore
        let log = CommitLog()
        let ignoring = try S3SinkTask(config: config, client: client, commit: log.committer)
        try await ignoring.put(messages)
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 4])
        let objects = try await env.objects(under: config.naming.topicsDir + "/", client: client)
        XCTAssertEqual(objects.values.flatMap { lines($0) }.sorted(), [0, 2, 3].map { SinkFixtures.line(id: $0) }.sorted())
    }

    func testBadRecordsGoToTheDeadLetterCallbackWhenTolerated() async throws {
        let env = try S3TestEnvironment.load()
        var config = env.sinkConfig(flushSize: 2)
        config.toleratesErrors = true
        let client = try env.client()
        var messages = SinkFixtures.messages(topic: "P_USERS", offsets: 0..<3)
        messages[1].value = Array("not json".utf8)
        let dead = Locked<[Int64]>([])
        let log = CommitLog()
        let task = try S3SinkTask(
            config: config, client: client, commit: log.committer,
            deadLetters: { failures in dead.withLock { $0 += failures.map(\.message.offset) } })
        try await task.put(messages)
        XCTAssertEqual(dead.value, [1])
        XCTAssertEqual(log.last, [TopicPartition("P_USERS", 0): 3])

        config.toleratesErrors = false
        let strict = try S3SinkTask(config: config, client: client, commit: CommitLog().committer)
        do {
            try await strict.put(messages)
            XCTFail("a bad record must stop the sink without errors.tolerance=all")
        } catch let error as PipelineError {
            XCTAssertTrue("\(error)".contains("P_USERS-0@1"), "\(error)")
        }
    }
}
