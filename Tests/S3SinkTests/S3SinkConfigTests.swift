import Foundation
import PipelineCore
import XCTest

@testable import S3Sink

/// Confluent S3 sink connector properties in, typed configuration out.
final class S3SinkConfigTests: XCTestCase {
    /// The seed's connector.
    static let seed: [String: String] = [
        "name": "s3-users",
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": "P_USERS",
        "s3.region": "us-east-1",
        "s3.bucket.name": "tributary",
        "flush.size": "5",
        "rotate.schedule.interval.ms": "6000",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "schema.compatibility": "NONE",
    ]

    func testSeedConnector() throws {
        let config = try S3SinkConfig(properties: Self.seed, environment: [:])
        XCTAssertEqual(config.name, "s3-users")
        XCTAssertEqual(config.groupID, "connect-s3-users")
        XCTAssertEqual(config.topics, ["P_USERS"])
        XCTAssertEqual(config.bucket, "tributary")
        XCTAssertEqual(config.region, "us-east-1")
        XCTAssertEqual(config.rotation, RotationPolicy(flushSize: 5, scheduleIntervalMilliseconds: 6000))
        XCTAssertEqual(config.format, .json)
        XCTAssertEqual(config.partitioner, .default)
        XCTAssertEqual(config.fileExtension, ".json")
        XCTAssertNil(config.credentials, "credentials come from the environment")
        XCTAssertThrowsError(try config.clientConfiguration(environment: [:])) { error in
            XCTAssertEqual(error as? CredentialsError, .missing("AWS_ACCESS_KEY_ID"))
        }
        let client = try config.clientConfiguration(
            environment: ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"])
        XCTAssertEqual(client.addressing, .pathStyle)
    }

    func testEveryOptionMaps() throws {
        var properties = Self.seed
        properties.merge([
            "store.url": "http://127.0.0.1:9000", "s3.path.style.access.enabled": "false",
            "aws.access.key.id": "AKID", "aws.secret.access.key": "${env:S3_SECRET}",
            "topics.dir": "archive", "directory.delim": "/", "file.delim": "#", "filename.offset.zero.pad.width": "12",
            "rotate.interval.ms": "60000", "s3.compression.type": "gzip", "s3.part.size": "5242880",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
            "format.bytearray.extension": ".raw", "format.bytearray.separator": "|",
            "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            "path.format": "'dt'=YYYY-MM-dd", "partition.duration.ms": "86400000", "locale": "en-US",
            "timezone": "Europe/Berlin", "timestamp.extractor": "RecordField", "timestamp.field": "created",
            "behavior.on.null.values": "ignore", "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "dlq", "s3.part.retries": "5", "s3.retry.backoff.ms": "50",
        ]) { _, new in new }
        let config = try S3SinkConfig(properties: properties, environment: ["S3_SECRET": "from-env"])
        XCTAssertEqual(config.endpoint, "http://127.0.0.1:9000")
        XCTAssertFalse(config.pathStyleAccess)
        XCTAssertEqual(config.credentials?.secretAccessKey.value, "from-env")
        XCTAssertEqual(config.naming, ObjectNaming(topicsDir: "archive", fileDelimiter: "#", offsetPadWidth: 12))
        XCTAssertEqual(config.rotation.rotateIntervalMilliseconds, 60000)
        XCTAssertEqual(config.format, .byteArray(separator: Array("|".utf8), fileExtension: ".raw"))
        XCTAssertEqual(config.fileExtension, ".raw.gz")
        XCTAssertEqual(config.partSize, 5_242_880)
        XCTAssertEqual(
            config.partitioner,
            .timeBased(pathFormat: "'dt'=YYYY-MM-dd", durationMilliseconds: 86_400_000, extractor: .recordField("created")))
        XCTAssertEqual(config.timeZone, "Europe/Berlin")
        XCTAssertEqual(config.nullValues, .ignore)
        XCTAssertTrue(config.toleratesErrors)
        XCTAssertEqual(config.deadLetterTopic, "dlq")
        // An outage never stops the sink: s3.part.retries no longer bounds retries.
        XCTAssertEqual(config.retry.maxAttempts, .max)
        XCTAssertEqual(config.retry.initialDelay, .milliseconds(50))
        XCTAssertEqual(config.stallTimeout, .seconds(30))
    }

    func testPresetsAndFieldPartitioner() throws {
        var properties = Self.seed
        properties["partitioner.class"] = "io.confluent.connect.storage.partitioner.HourlyPartitioner"
        properties["timestamp.extractor"] = "Record"
        XCTAssertEqual(
            try S3SinkConfig(properties: properties, environment: [:]).partitioner,
            .timeBased(pathFormat: "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", durationMilliseconds: 3_600_000, extractor: .record))
        properties["partitioner.class"] = "io.confluent.connect.storage.partitioner.FieldPartitioner"
        properties["partition.field.name"] = "region, country"
        XCTAssertEqual(try S3SinkConfig(properties: properties, environment: [:]).partitioner, .field(["region", "country"]))
    }

    func testMistakesAreClearErrors() {
        func error(_ changes: [String: String?]) -> String {
            var properties = Self.seed
            for (key, value) in changes { properties[key] = value }
            do {
                _ = try S3SinkConfig(properties: properties, environment: [:])
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error(["s3.bucket.nam": "x"]).contains("did you mean 's3.bucket.name'"))
        XCTAssertTrue(error(["s3.ssea.name": "AES256"]).contains("unknown or unsupported key"))
        XCTAssertTrue(error(["flush.size": nil]).contains("flush.size"))
        XCTAssertTrue(error(["flush.size": "0"]).contains("flush.size"))
        XCTAssertTrue(error(["format.class": "io.confluent.connect.s3.format.avro.AvroFormat"]).contains("format.class"))
        XCTAssertTrue(error(["s3.compression.type": "snappy"]).contains("s3.compression.type"))
        XCTAssertTrue(error(["s3.part.size": "1000"]).contains("s3.part.size"))
        XCTAssertTrue(error(["partitioner.class": "io.confluent.connect.storage.partitioner.FieldPartitioner"])
            .contains("partition.field.name"))
        XCTAssertTrue(error([
            "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            "path.format": "YYYY", "partition.duration.ms": "1000",
        ]).contains("timezone"))
        XCTAssertTrue(error(["timezone": "Nowhere/Land"]).contains("timezone"))
        XCTAssertTrue(error(["aws.access.key.id": "AKID"]).contains("aws.secret.access.key"))
        let secretError = error(["aws.access.key.id": "AKID", "aws.secret.access.key": "SUPERSECRET", "flush.size": "x"])
        XCTAssertFalse(secretError.contains("SUPERSECRET"), secretError)
    }
}

/// The example connector shipped in Examples/connectors runs unchanged.
final class S3SinkExampleConnectorTests: XCTestCase {
    func testShippedExampleParses() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = repository.appendingPathComponent("Examples/connectors/s3-sink.json").path
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let spec = try ConnectorSpec.parse(bytes, fallbackName: "s3-sink")
        let config = try S3SinkConfig(
            properties: spec.properties,
            environment: ["AWS_REGION": "us-east-1", "TRIBUTARY_S3_BUCKET": "b", "TRIBUTARY_S3_ENDPOINT": "http://127.0.0.1:9000"])
        XCTAssertEqual(config.bucket, "b")
        XCTAssertEqual(config.endpoint, "http://127.0.0.1:9000")
        XCTAssertEqual(config.rotation.flushSize, 5)
        XCTAssertEqual(config.rotation.scheduleIntervalMilliseconds, 6000)
        XCTAssertEqual(config.groupID, "connect-\(spec.name)")
    }

    /// The S3 sink's exactly-once relies on eager rebalancing (every partition
    /// revoked, resumed at its committed offset): cooperative is refused.
    func testCooperativeRebalancingIsRefused() throws {
        let config = S3SinkConfig(topics: ["t"], bucket: "b", flushSize: 1)
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
        let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        XCTAssertThrowsError(try S3SinkConnector(
            config: config, kafka: kafka.with(["partition.assignment.strategy": "cooperative-sticky"]), environment: environment)
        ) { error in
            guard case PipelineError.config(let key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "partition.assignment.strategy")
        }
        XCTAssertNoThrow(try S3SinkConnector(
            config: config, kafka: kafka.with(["partition.assignment.strategy": "range"]), environment: environment))
    }
}
