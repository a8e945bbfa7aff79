import PipelineCore

extension S3SinkConfig {
    static let partitionerPackage = "io.confluent.connect.storage.partitioner."
    static let jsonFormat = "io.confluent.connect.s3.format.json.JsonFormat"
    static let byteArrayFormat = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"

    /// The Confluent S3 sink keys this sink accepts. Any other key is an
    /// error, so a connector JSON never silently loses a setting.
    public static let definition = ConfigDefinition(keys: [
        ConfigKey("topics", .list, default: nil, doc: "Topics to archive."),
        ConfigKey("s3.bucket.name", .string, default: nil, doc: "The bucket objects are written to."),
        ConfigKey("s3.region", .string, default: "us-west-2", doc: "The bucket's region."),
        ConfigKey("store.url", .string, default: "", doc: "An S3-compatible endpoint instead of AWS."),
        ConfigKey("s3.path.style.access.enabled", .boolean, default: "true", doc: "Path-style (true) or virtual-hosted addressing."),
        ConfigKey("aws.access.key.id", .string, default: "", doc: "Access key; empty reads AWS_ACCESS_KEY_ID."),
        ConfigKey("aws.secret.access.key", .password, default: "", doc: "Secret key; empty reads AWS_SECRET_ACCESS_KEY."),
        ConfigKey("storage.class", .class, default: "io.confluent.connect.s3.storage.S3Storage", doc: "Only S3Storage.",
                  validValues: ["io.confluent.connect.s3.storage.S3Storage"]),
        ConfigKey("topics.dir", .string, default: "topics", doc: "Top-level directory of the objects."),
        ConfigKey("directory.delim", .string, default: "/", doc: "Directory delimiter."),
        ConfigKey("file.delim", .string, default: "+", doc: "Delimiter between topic, partition and offset in names."),
        ConfigKey("filename.offset.zero.pad.width", .int, default: "10", doc: "Digits of the start offset in names."),
        ConfigKey("flush.size", .int, default: nil, doc: "Records per object."),
        ConfigKey("rotate.interval.ms", .long, default: "-1", doc: "Most record time one object spans (-1: off)."),
        ConfigKey("rotate.schedule.interval.ms", .long, default: "-1", doc: "Wall-clock rotation interval (-1: off)."),
        ConfigKey("format.class", .class, default: nil, doc: "JsonFormat or ByteArrayFormat.",
                  validValues: [jsonFormat, byteArrayFormat]),
        ConfigKey("format.bytearray.extension", .string, default: ".bin", doc: "Extension of ByteArrayFormat objects."),
        ConfigKey("format.bytearray.separator", .string, default: "", doc: "Bytes between ByteArrayFormat records (empty: newline)."),
        ConfigKey("s3.compression.type", .string, default: "none", doc: "none or gzip.", validValues: ["none", "gzip"]),
        ConfigKey("s3.compression.level", .int, default: "-1", doc: "gzip level: -1 (zlib's default, 6) or 0 (stored) to 9."),
        ConfigKey("s3.part.size", .int, default: "26214400", doc: "Multipart part size; bounds a file's memory."),
        ConfigKey("s3.part.retries", .int, default: "3", doc: "Accepted; transient S3 failures are retried until S3 is back (an outage never stops the sink)."),
        ConfigKey("s3.retry.backoff.ms", .long, default: "200", doc: "First retry delay; doubles up to 2 s."),
        ConfigKey("s3.stall.timeout.ms", .long, default: "30000", doc: "A request that moves no data for this long is aborted and retried."),
        ConfigKey("partitioner.class", .class, default: partitionerPackage + "DefaultPartitioner", doc: "How objects are grouped.",
                  validValues: ["DefaultPartitioner", "FieldPartitioner", "TimeBasedPartitioner", "HourlyPartitioner", "DailyPartitioner"]
                    .map { partitionerPackage + $0 }),
        ConfigKey("partition.field.name", .list, default: "", doc: "FieldPartitioner's fields."),
        ConfigKey("path.format", .string, default: "", doc: "TimeBasedPartitioner's Joda-Time path pattern."),
        ConfigKey("partition.duration.ms", .long, default: "-1", doc: "TimeBasedPartitioner's bucket length."),
        ConfigKey("locale", .string, default: "", doc: "Accepted; only numeric date fields are supported, so it never matters."),
        ConfigKey("timezone", .string, default: "", doc: "Time zone of time partitions and scheduled rotation (empty: UTC)."),
        ConfigKey("timestamp.extractor", .string, default: "Wallclock", doc: "Wallclock, Record or RecordField.",
                  validValues: ["Wallclock", "Record", "RecordField"]),
        ConfigKey("timestamp.field", .string, default: "timestamp", doc: "RecordField's field."),
        ConfigKey("behavior.on.null.values", .string, default: "fail", doc: "fail or ignore.", validValues: ["fail", "ignore"]),
        ConfigKey("schema.compatibility", .string, default: "NONE", doc: "Only NONE.", validValues: ["NONE"]),
        ConfigKey("value.converter", .class, default: "org.apache.kafka.connect.json.JsonConverter",
                  doc: "JsonConverter, Confluent's AvroConverter or JsonSchemaConverter (with value.converter.schema.registry.url), or ByteArrayConverter with ByteArrayFormat.",
                  validValues: ["org.apache.kafka.connect.json.JsonConverter", RegistryConverterSettings.avroConverterClass,
                                RegistryConverterSettings.jsonSchemaConverterClass, "org.apache.kafka.connect.converters.ByteArrayConverter"]),
    ])

    /// A configuration from Confluent S3 sink connector properties.
    ///
    /// - Throws: `PipelineError.config` naming the key at fault.
    public init(connector config: ConnectorConfig) throws(PipelineError) {
        self.init(
            name: config.string("name").isEmpty ? "s3-sink" : config.string("name"), topics: config.list("topics"),
            bucket: config.string("s3.bucket.name"), region: config.string("s3.region"),
            endpoint: config.explicit("store.url"), flushSize: config.int("flush.size"))
        pathStyleAccess = config.bool("s3.path.style.access.enabled")
        if let id = config.explicit("aws.access.key.id") {
            guard let secret = config.explicit("aws.secret.access.key") else {
                throw PipelineError.config(key: "aws.secret.access.key", reason: "aws.access.key.id is set but its secret is not")
            }
            credentials = Credentials(accessKeyID: id, secretAccessKey: secret)
        }
        naming = ObjectNaming(
            topicsDir: config.string("topics.dir"), directoryDelimiter: config.string("directory.delim"),
            fileDelimiter: config.string("file.delim"), offsetPadWidth: config.int("filename.offset.zero.pad.width"))
        let interval = config.int64("rotate.interval.ms")
        let schedule = config.int64("rotate.schedule.interval.ms")
        rotation = RotationPolicy(
            flushSize: config.int("flush.size"), rotateIntervalMilliseconds: interval > 0 ? interval : nil,
            scheduleIntervalMilliseconds: schedule > 0 ? schedule : nil)
        let valueConverter = config.string("value.converter")
        if config.string("format.class") == Self.byteArrayFormat {
            let separator = config.string("format.bytearray.separator")
            format = .byteArray(
                separator: separator.isEmpty ? [UInt8(ascii: "\n")] : Array(separator.utf8),
                fileExtension: config.string("format.bytearray.extension"))
        } else {
            guard !valueConverter.hasSuffix("ByteArrayConverter") else {
                throw PipelineError.config(key: "value.converter", reason: "JsonFormat needs the JsonConverter, AvroConverter or JsonSchemaConverter")
            }
            format = .json
        }
        compression = CompressionType(rawValue: config.string("s3.compression.type").lowercased()) ?? .none
        // Clamped only until the range check below refuses what is outside -1...9.
        compressionLevel = Int32(clamping: config.int64("s3.compression.level"))
        partSize = config.int("s3.part.size")
        timeZone = config.string("timezone")
        nullValues = NullValueBehavior(rawValue: config.string("behavior.on.null.values").lowercased()) ?? .fail
        toleratesErrors = config.string("errors.tolerance").lowercased() == "all"
        deadLetterTopic = config.explicit("errors.deadletterqueue.topic.name")
        valueSchemasEnabled = config.bool("value.converter.schemas.enable")
        valueRegistry = try RegistryConverterSettings.from(config, isKey: false)
        // Confluent's ranges: a negative value is a mistake, not "no retries".
        for (key, least) in [("s3.part.retries", Int64(0)), ("s3.retry.backoff.ms", 0), ("s3.compression.level", -1)] where config.int64(key) < least {
            throw PipelineError.config(key: key, reason: "must be at least \(least), got \(config.int64(key))")
        }
        if config.int64("s3.compression.level") > 9 {
            throw PipelineError.config(key: "s3.compression.level", reason: "must be between -1 and 9, got \(config.int64("s3.compression.level"))")
        }
        retry = Self.outageRetry(initialDelay: .milliseconds(max(1, config.int64("s3.retry.backoff.ms"))))
        stallTimeout = .milliseconds(max(1_000, config.int64("s3.stall.timeout.ms")))
        partitioner = try Self.partitionerChoice(config)
        ignoredKeyNotices = config.ignoredKeyNotices
        try validate()
    }

    /// Parses flat connector properties (as in a connector JSON's `config`);
    /// `${env:VAR}` references are read from `environment`. The shape every
    /// stage's config takes (`MySQLSinkConfig`, `PostgresSourceConfig`).
    public init(properties: [String: String], environment: [String: String] = ProcessEnvironment.current) throws(PipelineError) {
        try self.init(connector: ConnectorConfig(properties, definition: Self.definition, environment: environment))
    }

    private static func partitionerChoice(_ config: ConnectorConfig) throws(PipelineError) -> PartitionerChoice {
        let className = config.string("partitioner.class")
        let simpleName = className.split(separator: ".").last.map(String.init) ?? className
        let extractorName = config.string("timestamp.extractor")
        let extractor: TimestampExtractor
        switch extractorName.lowercased() {
        case "record": extractor = .record
        case "recordfield": extractor = .recordField(config.string("timestamp.field"))
        default: extractor = .wallclock
        }
        switch simpleName {
        case "FieldPartitioner":
            return .field(config.list("partition.field.name"))
        case "HourlyPartitioner":
            return .timeBased(
                pathFormat: "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", durationMilliseconds: 3_600_000,
                extractor: extractor)
        case "DailyPartitioner":
            return .timeBased(
                pathFormat: "'year'=YYYY/'month'=MM/'day'=dd", durationMilliseconds: 86_400_000, extractor: extractor)
        case "TimeBasedPartitioner":
            guard config.explicit("timezone") != nil else {
                throw PipelineError.config(key: "timezone", reason: "TimeBasedPartitioner needs a time zone, e.g. UTC")
            }
            return .timeBased(
                pathFormat: config.string("path.format"), durationMilliseconds: config.int64("partition.duration.ms"),
                extractor: extractor)
        default:
            return .default
        }
    }
}
