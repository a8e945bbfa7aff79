import PipelineCore

/// Which partitioner the sink uses (`partitioner.class` and its keys).
public enum PartitionerChoice: Sendable, Equatable {
    /// `DefaultPartitioner`: `partition=<n>`.
    case `default`
    /// `FieldPartitioner` on `partition.field.name`.
    case field([String])
    /// `TimeBasedPartitioner` (also `HourlyPartitioner`, `DailyPartitioner`).
    case timeBased(pathFormat: String, durationMilliseconds: Int64, extractor: TimestampExtractor)

    /// Whether files are cut by record time (rotation then also follows
    /// changes of the time partition).
    var isTimeBased: Bool {
        if case .timeBased = self { return true }
        return false
    }
}

/// What to do with a record whose value is null (`behavior.on.null.values`).
public enum NullValueBehavior: String, Sendable, Equatable {
    /// Stop the sink with an error naming the record (Confluent's default).
    case fail
    /// Skip the record; its offset is still committed with the next file.
    case ignore
}

/// The S3 sink's typed configuration. Built directly by library users or
/// from Confluent S3 sink connector properties with ``init(properties:environment:)``.
///
/// Where this sink differs from Confluent's, on purpose:
/// - `rotate.interval.ms` also works without a time-based partitioner,
///   measured on the Kafka record timestamps (Confluent ignores it there).
/// - With `rotate.schedule.interval.ms` delivery stays exactly-once: each
///   partition commits synchronously after every upload batch, so the batch
///   rebuilt after a crash starts at the same offsets and replaces it.
/// - `path.format` supports numeric fields only (no month or day names),
///   so `locale` never changes a path.
/// - Formats: JsonFormat and ByteArrayFormat (no Avro or Parquet).
public struct S3SinkConfig: Sendable {
    /// The connector name; the consumer group is `connect-<name>`, as in Connect.
    public var name: String
    /// `topics`.
    public var topics: [String]
    /// `s3.bucket.name`.
    public var bucket: String
    /// `s3.region`.
    public var region: String
    /// `store.url`: an S3-compatible endpoint instead of AWS.
    public var endpoint: String?
    /// `s3.path.style.access.enabled`.
    public var pathStyleAccess: Bool
    /// `aws.access.key.id` / `aws.secret.access.key`; nil reads the
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` environment.
    public var credentials: Credentials?
    /// `topics.dir`, `directory.delim`, `file.delim`, `filename.offset.zero.pad.width`.
    public var naming: ObjectNaming
    /// `flush.size`, `rotate.interval.ms`, `rotate.schedule.interval.ms`.
    public var rotation: RotationPolicy
    /// `format.class`.
    public var format: RecordFormat
    /// `s3.compression.type`.
    public var compression: CompressionType
    /// `s3.compression.level`: gzip's level, -1 (zlib's default, 6) or 0 to 9.
    public var compressionLevel: Int32 = -1
    /// `s3.part.size`: the multipart part size, and so the most a file buffers.
    public var partSize: Int
    /// About the most all open files buffer together (no Confluent key):
    /// with many files open, parts shrink toward S3's 5 MiB minimum.
    public var bufferBudget: Int
    /// About the most all open files hold in memory together (no Confluent
    /// key). Past it, files move what they buffer to unlinked files in
    /// ``spillDirectory`` until their bytes are uploaded: a file smaller
    /// than S3's 5 MiB minimum part can only be sent whole, at rotation, so
    /// with many partitions open their buffers would otherwise dominate the
    /// worker's memory. Objects' bytes and names do not change.
    public var memoryBudget: Int
    /// Where spill files are made: `$TMPDIR`, or `/tmp`.
    public var spillDirectory: String
    /// `partitioner.class` and its keys.
    public var partitioner: PartitionerChoice
    /// `timezone` for time partitions and scheduled rotation; empty is UTC.
    public var timeZone: String
    /// `behavior.on.null.values`.
    public var nullValues: NullValueBehavior
    /// `errors.tolerance=all`: bad records go to the dead-letter topic instead of stopping the sink.
    public var toleratesErrors: Bool
    /// `errors.deadletterqueue.topic.name`.
    public var deadLetterTopic: String?
    /// `value.converter.schemas.enable` (JsonConverter envelopes on the topic).
    public var valueSchemasEnabled: Bool
    /// Set when `value.converter` is Confluent's AvroConverter (JsonFormat then writes each record as JSON).
    public var valueRegistry: RegistryConverterSettings? = nil
    /// How S3 requests are retried: transient failures (5xx, throttling,
    /// timeouts, connection refused) without limit, so an S3 outage of any
    /// length is waited out, from `s3.retry.backoff.ms` doubling up to 2 s.
    /// `s3.part.retries` is accepted: Confluent's sink fails once it runs out.
    public var retry: RetryPolicy
    /// Notices for Connect keys given but without effect (``ConnectorConfig/ignoredKeyNotices``);
    /// ``S3SinkConnector`` logs each once.
    public var ignoredKeyNotices: [String] = []
    /// `s3.stall.timeout.ms`: a request that moves no data for this long
    /// (an endpoint that accepted the connection but never answers) is
    /// aborted and retried.
    public var stallTimeout: Duration

    /// A configuration with Confluent's defaults for everything not given.
    public init(
        name: String = "s3-sink", topics: [String], bucket: String, region: String = "us-west-2",
        endpoint: String? = nil, flushSize: Int
    ) {
        self.name = name
        self.topics = topics
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        pathStyleAccess = true
        credentials = nil
        naming = ObjectNaming()
        rotation = RotationPolicy(flushSize: flushSize)
        format = .json
        compression = .none
        partSize = 25 * 1024 * 1024
        bufferBudget = 256 * 1024 * 1024
        // 8 MiB, with the executable's periodic trim: a 1,000,000-row run's
        // peak 138-143 MB against 147-155 at 16 MiB untrimmed (BENCHMARKS.md, run 19).
        memoryBudget = 8 * 1024 * 1024
        spillDirectory = ProcessEnvironment.get("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        partitioner = .default
        timeZone = ""
        nullValues = .fail
        toleratesErrors = false
        deadLetterTopic = nil
        valueSchemasEnabled = true
        retry = Self.outageRetry(initialDelay: .milliseconds(200))
        stallTimeout = .seconds(30)
    }

    /// Retries without limit, capped at ``Backoff/outage``'s 2 s.
    static func outageRetry(initialDelay: Duration) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: .max, initialDelay: initialDelay,
            maxDelay: .milliseconds(Backoff.outage.maximumMilliseconds))
    }

    /// The consumer group, named as Kafka Connect names a sink's group.
    public var groupID: String { ConnectorSpec.sinkGroupID(connector: name) }

    /// Checks the values against each other; the error names the key at fault.
    public func validate() throws(PipelineError) {
        guard !topics.isEmpty else { throw PipelineError.config(key: "topics", reason: "name at least one topic") }
        guard !bucket.isEmpty else { throw PipelineError.config(key: "s3.bucket.name", reason: "missing bucket name") }
        guard rotation.flushSize > 0 else {
            throw PipelineError.config(key: "flush.size", reason: "must be a positive number of records")
        }
        // A key is at most 1024 bytes: a wider pad could never name an object
        // (and a huge one would exhaust memory building the name).
        guard (0...1024).contains(naming.offsetPadWidth) else {
            throw PipelineError.config(key: "filename.offset.zero.pad.width", reason: "must be between 0 and 1024, got \(naming.offsetPadWidth)")
        }
        guard partSize >= S3Client.minimumPartSize, partSize <= Int(Int32.max) else {
            throw PipelineError.config(key: "s3.part.size", reason: "must be between 5242880 and 2147483647 bytes")
        }
        if case .field(let names) = partitioner, names.isEmpty {
            throw PipelineError.config(key: "partition.field.name", reason: "FieldPartitioner needs at least one field")
        }
        _ = try ZoneRules(identifier: timeZone, key: "timezone")
        _ = try makePartitioner()
    }

    /// The partitioner this configuration describes.
    public func makePartitioner() throws(PipelineError) -> any Partitioner {
        switch partitioner {
        case .default:
            return DefaultPartitioner()
        case .field(let names):
            return FieldPartitioner(fieldNames: names, delimiter: naming.directoryDelimiter)
        case .timeBased(let pathFormat, let duration, let extractor):
            return try TimeBasedPartitioner(
                pathFormat: pathFormat, durationMilliseconds: duration, timeZone: timeZone, extractor: extractor)
        }
    }

    /// The S3 client configuration: explicit or environment credentials.
    public func clientConfiguration(
        environment: [String: String] = ProcessEnvironment.current
    ) throws -> S3ClientConfiguration {
        S3ClientConfiguration(
            region: region, credentials: try credentials ?? Credentials.fromEnvironment(environment),
            endpoint: endpoint, addressing: pathStyleAccess ? .pathStyle : .virtualHosted, retry: retry,
            stallTimeout: stallTimeout)
    }

    /// The file name extension, compression included: `.json.gz`.
    public var fileExtension: String { format.fileExtension + compression.fileExtension }
}
