/// How a ``SinkRunner`` consumes, batches and commits.
public struct SinkRunnerSettings: Sendable {
    /// How the runner commits what ``SinkTask/preCommit()`` returns.
    public enum Commits: Sendable, Equatable {
        /// Wait for the broker (retried through outages, like
        /// ``SinkTaskContext/commit(_:)``): the committed offsets are the
        /// ones the sink resumes from.
        case synchronous
        /// Send without waiting; a failure is only logged. For sinks whose
        /// destination stores the offsets that count (the commit is for
        /// tools that read group lag), where a coordinator outage must not
        /// hold up the work.
        case advisory
    }

    /// Where dead letters go.
    public struct DeadLetters: Sendable {
        /// `errors.deadletterqueue.topic.name`.
        public var topic: String
        /// Named in the `__connect.errors.connector.name` header.
        public var connectorName: String
        /// The producer's cluster and settings (its `message.max.bytes` bounds a dead letter).
        public var kafka: KafkaConfiguration

        public init(topic: String, connectorName: String, kafka: KafkaConfiguration) {
            self.topic = topic
            self.connectorName = connectorName
            self.kafka = kafka
        }
    }

    /// The consumer group, `connect-<name>`.
    public var groupID: String
    /// Topic names; one starting with `^` is a regex.
    public var topics: [String]
    /// The consumer's cluster and settings (static membership, assignment
    /// strategy); ``KafkaConfiguration/forGroupMember()`` is applied to it.
    public var consumer: KafkaConfiguration
    /// Nil: no dead-letter queue.
    public var deadLetters: DeadLetters?
    /// Most records per batch.
    public var maxRecords: Int
    /// A batch ends with the record whose key and value bring it to this many bytes.
    public var maxBytes: Int
    /// The longest a poll waits for its first record (and so the longest
    /// between two ticks while nothing arrives).
    public var pollTimeout: Duration
    /// How long a batch keeps filling after its first record, unless it is
    /// full sooner: records arriving in a trickle (a consumer that just
    /// caught up, fetches answered partition by partition) then make one
    /// put instead of many small ones, at this much added latency.
    public var fillTime: Duration
    public var commits: Commits
    /// The connector's name, for its ``ConnectorMetrics``.
    public var connectorName: String

    /// Bytes of keys and values a batch holds at most by default (about:
    /// the record that crosses it is still taken).
    public static let defaultMaxBytes = 16 << 20
    /// ``fillTime`` by default: a fifth of the 100 ms a change may take from
    /// the source's commit to the destination.
    public static let defaultFillTime = Duration.milliseconds(20)

    public init(
        groupID: String, topics: [String], consumer: KafkaConfiguration, deadLetters: DeadLetters? = nil,
        maxRecords: Int = 1000, maxBytes: Int = SinkRunnerSettings.defaultMaxBytes, pollTimeout: Duration = .milliseconds(500),
        fillTime: Duration = SinkRunnerSettings.defaultFillTime, commits: Commits = .synchronous, connectorName: String? = nil
    ) {
        self.fillTime = fillTime
        self.groupID = groupID
        self.topics = topics
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.pollTimeout = pollTimeout
        self.commits = commits
        // Connect's group id is `connect-<name>`.
        self.connectorName =
            connectorName ?? deadLetters?.connectorName ?? (groupID.hasPrefix("connect-") ? String(groupID.dropFirst(8)) : groupID)
    }
}
