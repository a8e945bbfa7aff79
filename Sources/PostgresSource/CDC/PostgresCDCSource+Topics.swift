import PipelineCore

extension PostgresCDCSource {
    /// Creates the captured tables' topics (and the heartbeat topic) on the
    /// embedded broker before any record, so sinks of the same process that
    /// subscribe first see them at once (an auto-created topic reaches them
    /// only at their next metadata refresh). Elsewhere the broker
    /// auto-creates topics and this does nothing. An existing topic keeps its partitions.
    public func prepareTopics() async throws {
        guard let kafka, kafka.embedded != nil else { return }
        try await client.connect(policy: .connect)
        let tables = try await CDCCatalog(client: client).captured(TableFilter(config), publication: config.publication)
        var topics = tables.map { name -> String in
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            return topic(schema: parts[0], table: parts[1])
        }
        if config.heartbeatIntervalMilliseconds > 0 { topics.append(heartbeatTopic) }
        let admin = try KafkaAdmin(configuration: kafka)
        for topic in topics {
            let partitions = try await admin.createTopic(topic, partitions: EmbeddedKafka.defaultPartitions, replicationFactor: -1)
            logger.info("topic \(topic) has \(partitions) partitions")
        }
    }
}
