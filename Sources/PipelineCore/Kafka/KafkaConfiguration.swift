import CRdKafka
import Logging

/// Connection settings for a Kafka client: the bootstrap servers plus any
/// librdkafka property, passed through unchanged (TLS, SASL, tuning).
public struct KafkaConfiguration: Sendable, CustomStringConvertible {
    public var bootstrapServers: String
    /// librdkafka properties (see its CONFIGURATION.md), e.g. `security.protocol`.
    public var properties: [String: String]
    /// The in-process cluster `bootstrapServers` points at, when it is one
    /// (see ``EmbeddedKafka/configuration``). Its records live only as long
    /// as this process and are pruned beyond a few MiB per partition, so
    /// clients guard against that: producers wait for this process's
    /// consumers to keep up (``BacklogLimiter``), and a consumer group
    /// without a committed offset fails when a partition's log no longer
    /// starts at 0 instead of silently starting later.
    public var embedded: EmbeddedKafka?

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// The configuration with `overrides` applied on top.
    public func with(_ overrides: [String: String]) -> KafkaConfiguration {
        var copy = self
        copy.properties.merge(overrides) { _, new in new }
        return copy
    }

    /// The configuration with `defaults` for the properties it does not set.
    /// Like ``with(_:)`` it keeps ``embedded``, so the client still guards
    /// the in-process cluster's records.
    public func withDefaults(_ defaults: [String: String]) -> KafkaConfiguration {
        var copy = self
        copy.properties.merge(defaults) { own, _ in own }
        return copy
    }

    /// This configuration for a consumer that joins `groupID` as a static
    /// member (KIP-345), `group.instance.id=<groupID>-<task>`, unless it
    /// already names an id.
    ///
    /// The id is stable across restarts, so a member restarted after a crash
    /// gets its partitions back at once, without a rebalance and without
    /// waiting for the old session to time out. A static member does not
    /// leave the group when it closes: after a graceful stop its partitions
    /// wait `session.timeout.ms` for it before moving to another member. Two
    /// members running at once need different ids (the broker fences the
    /// older one), e.g. through `consumer.override.group.instance.id`.
    public func staticMember(of groupID: String, task: Int = 0) -> KafkaConfiguration {
        guard properties["group.instance.id"] == nil else { return self }
        return with(["group.instance.id": "\(groupID)-\(task)"])
    }

    public var description: String {
        let shown = properties.keys.sorted().map { key in
            "\(key)=\(ConfigKey.looksSecret(key) ? "[hidden]" : properties[key]!)"
        }
        return "bootstrap.servers=\(bootstrapServers)" + (shown.isEmpty ? "" : ", " + shown.joined(separator: ", "))
    }

    /// Every client reconnects to a broker that was away within the outage
    /// policy's 2 s cap (``Backoff/outage``): librdkafka's own default lets
    /// the reconnect backoff grow to 10 s, which kept the pipeline idle for
    /// up to 10 s after a broker came back (seen by scripts/faults.sh).
    static let reconnectDefaults: [String: String] = [
        "reconnect.backoff.ms": "100",
        "reconnect.backoff.max.ms": "2000",
    ]

    /// Builds a librdkafka configuration; `defaults` apply unless the user set the key.
    func makeNativeConfig(defaults: [String: String]) throws(PipelineError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var all = KafkaConfiguration.reconnectDefaults.merging(defaults) { _, client in client }
        all.merge(properties) { _, user in user }
        all["bootstrap.servers"] = bootstrapServers
        // Route librdkafka's own log lines through swift-log instead of stderr.
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let message = stringFromBuffer(errorText)
                throw PipelineError.config(key: key, reason: ConfigKey.looksSecret(key) ? "rejected by librdkafka" : message)
            }
        }
        return conf
    }
}

/// The logger librdkafka's internal log lines go to.
let kafkaLogger = Logger(label: "tributary.librdkafka")

/// librdkafka log callback (syslog levels): errors stay errors, the rest is debug noise
/// such as expected connection refusals while a broker is down.
let kafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { _, level, facility, buffer in
    let text = buffer.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    switch level {
    case ...3: kafkaLogger.error("\(fac): \(text)")
    case 4: kafkaLogger.notice("\(fac): \(text)")
    default: kafkaLogger.debug("\(fac): \(text)")
    }
}

/// librdkafka's text for an error code.
func kafkaErrorText(_ code: rd_kafka_resp_err_t) -> String {
    String(cString: rd_kafka_err2str(code))
}

/// A PipelineError for a failed librdkafka call.
func kafkaError(_ operation: String, _ code: rd_kafka_resp_err_t, detail: String? = nil) -> PipelineError {
    .kafka(operation: operation, code: code.rawValue, reason: detail ?? kafkaErrorText(code), retriable: passingKafkaErrors.contains(code.rawValue))
}

/// Errors of a broker or coordinator that is down, moving or slow: an outage
/// of any length is waited out, never fatal.
let passingKafkaErrors: Set<Int32> = Set([
    RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
    RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__RESOLVE,
    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
    RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
].map(\.rawValue))

/// Creates a librdkafka handle, turning its error buffer into a PipelineError.
func makeKafkaHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws(PipelineError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        let message = stringFromBuffer(errorText)
        throw PipelineError.kafka(operation: "create client", code: -1, reason: message, retriable: false)
    }
    return handle
}

extension PipelineError {
    /// True for faults worth retrying (broker down, timeouts, coordinator moves).
    public var isRetriable: Bool {
        if case .kafka(_, _, _, let retriable) = self { return retriable }
        return false
    }
}
