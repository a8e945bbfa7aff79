import PipelineCore

extension PostgresSource {
    /// Connects, finds the configured tables and creates their topics (see
    /// ``ensureTopic(_:)``), without reading rows. `run()` does the same
    /// first; a worker calls this before starting the sinks of the same
    /// process, so they subscribe to topics that already have their partitions.
    public func prepareTopics() async throws {
        try await client.connect(policy: connectPolicy)
        var reported: Set<String> = []
        _ = try await discover(keeping: [:], strict: true, reported: &reported)
    }

    /// Creates `task.topic` before the first record goes to it, as Connect
    /// does with KIP-158's `topic.creation.default.*`: with
    /// `topic.creation.default.partitions` when set; on the embedded broker
    /// (``KafkaConfiguration/embedded``) with enough partitions for the
    /// table's backlog, as that broker keeps only a few MiB per partition
    /// (4 for an empty table); otherwise not at all (the broker auto-creates
    /// it). An existing topic keeps its partitions.
    func ensureTopic(_ task: TableTask) async throws {
        guard let kafka, !ensuredTopics.value.contains(task.topic) else { return }
        let partitions: Int
        var reason: String
        if let configured = config.topicCreationPartitions {
            partitions = configured
            reason = "topic.creation.default.partitions"
        } else if kafka.embedded != nil {
            // Created even for an empty table: the sinks of this process
            // subscribe before the first record, and would only see a topic
            // auto-created later at their next metadata refresh (minutes).
            guard let estimate = await backlogEstimate(task) else {
                try await createTopic(task.topic, kafka: kafka, partitions: EmbeddedKafka.defaultPartitions, reason: "an empty table on the embedded broker")
                return
            }
            partitions = EmbeddedKafka.partitions(forBacklogBytes: estimate.bytes)
            reason = "a backlog of \(estimate.rowsCapped ? "at least " : "")\(estimate.rows) rows of about \(estimate.recordBytes) bytes "
                + "(\(estimate.bytes / 1024 / 1024) MiB) on the embedded broker, which keeps about \(EmbeddedKafka.retainedBytesPerPartition / 1024 / 1024) MiB per partition"
            if partitions == EmbeddedKafka.maximumEstimatedPartitions {
                reason += "; capped at \(partitions): beyond that the source waits for the sinks"
            }
        } else if config.topicCreationReplicationFactor != nil {
            partitions = -1
            reason = "topic.creation.default.replication.factor"
        } else {
            return
        }
        try await createTopic(task.topic, kafka: kafka, partitions: partitions, reason: reason)
    }

    private func createTopic(_ topic: String, kafka: KafkaConfiguration, partitions: Int, reason: String) async throws {
        let admin = try KafkaAdmin(configuration: kafka)
        let actual = try await admin.createTopic(topic, partitions: partitions, replicationFactor: config.topicCreationReplicationFactor ?? -1)
        if partitions > 0 && actual != partitions {
            logger.notice("topic \(topic) already exists with \(actual) partitions; \(partitions) were wanted for \(reason)")
        } else {
            logger.info("topic \(topic) has \(actual) partitions, for \(reason)")
        }
        ensuredTopics.withLock { _ = $0.insert(topic) }
    }

    /// The rows of `task` and the size of their records, from a sample of
    /// up to 100 rows encoded as they will be sent. Rows are counted only up
    /// to what reaches ``EmbeddedKafka/maximumEstimatedPartitions`` (cheap on
    /// any table). Nil when the table is empty or cannot be sampled: the
    /// estimate only helps, the ``BacklogLimiter`` is what keeps records.
    func backlogEstimate(_ task: TableTask) async -> (rows: Int64, rowsCapped: Bool, recordBytes: Int, bytes: Int64)? {
        let (select, parameters) = task.query.range(above: nil, upTo: nil)
        do {
            let writers = try await self.writers(for: task)
            let sample = try await client.withConnection { connection in
                let result = try connection.query("SELECT * FROM (\(select)) AS tributary_sample LIMIT 100", parameters, operation: "sample \(task.label)")
                return try task.pages(from: result, after: nil, writers: writers, pageSize: .max)[0].messages
            }
            guard !sample.isEmpty else { return nil }
            let recordBytes = sample.map(BacklogLimiter.storedBytes).reduce(0, +) / sample.count
            let share = EmbeddedKafka.retainedBytesPerPartition / 4
            let enough = Int64(EmbeddedKafka.maximumEstimatedPartitions * share / max(1, recordBytes) + 1)
            let counted = try await client.query(
                "SELECT count(*) FROM (SELECT 1 FROM \(task.query.from) LIMIT \(enough)) AS tributary_rows", operation: "count \(task.label)")
            let rows = Int64(counted.first?.first.flatMap { $0 } ?? "0") ?? 0
            return (rows, rows >= enough, recordBytes, rows * Int64(recordBytes))
        } catch {
            logger.notice("\(task.label): could not estimate the backlog (\(error)); its topic gets the broker's default partitions")
            return nil
        }
    }
}
