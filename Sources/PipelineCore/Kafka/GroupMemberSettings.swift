import CRdKafka

extension KafkaConfiguration {
    /// The `session.timeout.ms` a group member gets on the embedded broker
    /// when the configuration sets none. librdkafka 2.0's mock cluster
    /// ignores `group.instance.id`, so a member restarted after a crash
    /// waits for the old member's session to time out; a short session
    /// shortens that wait. Below about 3 s joins hang on the mock.
    public static let embeddedBrokerSessionTimeoutMilliseconds = 4_000

    /// The `fetch.wait.max.ms` a group member gets on the embedded broker
    /// when the configuration sets none. The mock cluster holds a fetch that
    /// found no records for the whole wait, even when records arrive
    /// meanwhile (a real broker answers once `fetch.min.bytes` are there),
    /// so librdkafka's 500 ms would be the latency of every change that
    /// arrives while a sink is caught up (BENCHMARKS.md, run 9). 20 ms, not
    /// less: each idle member then asks each broker 50 times a second (at
    /// 10 ms a worker with three connectors and the broker used 7% of a
    /// core idle, against 1% at 500 ms; run 13).
    public static let embeddedBrokerFetchWaitMilliseconds = 20

    /// This configuration for a consumer-group member of the cluster it names:
    /// on the embedded broker (librdkafka's mock cluster, whose cluster id
    /// starts with `mockCluster`), ``embeddedBrokerSessionTimeoutMilliseconds``
    /// and ``embeddedBrokerFetchWaitMilliseconds`` where the configuration
    /// sets neither; unchanged elsewhere.
    ///
    /// Asks the cluster for its id once, on a thread of its own; an
    /// unreachable cluster counts as a real one.
    public func forGroupMember() async -> KafkaConfiguration {
        let mockDefaults = [
            "session.timeout.ms": String(Self.embeddedBrokerSessionTimeoutMilliseconds),
            "fetch.wait.max.ms": String(Self.embeddedBrokerFetchWaitMilliseconds),
        ].filter { properties[$0.key] == nil }
        guard !mockDefaults.isEmpty else { return self }
        let probe = KafkaConfiguration(
            bootstrapServers: bootstrapServers,
            properties: properties.filter { !$0.key.hasPrefix("group.") })
        let worker = BlockingWorker(name: "kafka-cluster-id")
        defer { worker.shutdown() }
        let clusterID = try? await worker.run { () throws -> String? in
            // A consumer handle (without a group): the settings are a consumer's.
            let rk = try makeKafkaHandle(RD_KAFKA_CONSUMER, try probe.makeNativeConfig(defaults: [:]))
            defer { rd_kafka_destroy(rk) }
            guard let id = rd_kafka_clusterid(rk, 3_000) else { return nil }
            defer { rd_kafka_mem_free(rk, id) }
            return String(cString: id)
        }
        guard let clusterID, clusterID.hasPrefix("mockCluster") else { return self }
        return with(mockDefaults)
    }
}
