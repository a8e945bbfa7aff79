import Logging
import PipelineCore

/// ``PostgresCDCSource`` as a ``SourceTask``: the snapshot (when one is due),
/// then the replication stream, batch by batch; positions are stored and
/// the slot confirmed in ``commit()``, only over what the broker acknowledged.
final class CDCTask: SourceTask {
    typealias Position = CDCBatchPosition

    let source: PostgresCDCSource
    let catalog: CDCCatalog
    let encoder: ChangeEventEncoder
    let clock = ContinuousClock()
    var stream: ReplicationStream
    /// The stream's decoding state. While ``receiving`` runs, the receive
    /// carries the current one and this copy is stale.
    var decoder: StreamDecoder
    /// The next batch's receive, started before the previous batch is
    /// returned (see ``poll()``); awaited (never left running) before the
    /// stream is closed.
    var receiving: Task<StreamDecoder.Received, any Error>?
    /// `table.include.list`; nil: whatever the publication sends.
    let filter: TableFilter?
    /// The tables captured when the run started (what the snapshot reads).
    var captured: [String] = []
    /// The position stored in the offset store (and confirmed to the slot).
    var stored = CDCPosition(committed: .zero, snapshotCompleted: false)
    /// Acknowledged, not yet stored.
    var acknowledged: CDCPosition?
    /// The furthest WAL position the server said it sent.
    var walEnd = LSN.zero
    var snapshot: SnapshotRead?
    var streaming = false
    /// A connection failed: reconnect and resume from ``stored`` at the next poll.
    var reconnect = false
    var retry: RetryLoop
    var nextHeartbeat: ContinuousClock.Instant
    var nextLagReport: ContinuousClock.Instant
    var nextLagLog: ContinuousClock.Instant
    var nextStatusUpdate: ContinuousClock.Instant
    var nextIdleAdvance: ContinuousClock.Instant
    var lastBatch: CDCPosition?
    /// The Kafka offsets what was acknowledged reaches, stored with the position.
    var covered: KafkaCoverage = [:]

    var config: PostgresCDCConfig { source.config }
    var logger: Logger { source.logger }

    init(source: PostgresCDCSource) {
        self.source = source
        catalog = CDCCatalog(client: source.client)
        stream = ReplicationStream(settings: source.config.connection, name: source.config.name)
        let config = source.config
        encoder = ChangeEventEncoder(
            serverName: config.topicPrefix, database: config.connection.parameters["dbname"] ?? "", tombstones: config.tombstonesOnDelete,
            keySchemasEnabled: config.keySchemasEnabled, valueSchemasEnabled: config.valueSchemasEnabled)
        filter = TableFilter(config)
        decoder = StreamDecoder(filter: filter, skippedOperations: config.skippedOperations, logger: source.logger)
        retry = RetryLoop(waitingFor: "PostgreSQL replication", logger: source.logger)
        nextHeartbeat = clock.now
        nextLagReport = clock.now
        nextLagLog = clock.now
        nextStatusUpdate = clock.now
        nextIdleAdvance = clock.now
    }

    var wantsSnapshot: Bool { [.initial, .initialOnly, .whenNeeded].contains(config.snapshotMode) }

    /// Sets up the publication and the slot, and decides between snapshot and
    /// resuming: a slot that went away while offsets say the stream was
    /// being read is an error (or, with `when_needed`, a new snapshot).
    func start() async throws {
        try await source.client.connect(policy: .connect)
        let offset = try await source.offsetStore.offset(for: source.offsetKey)
        let found = offset.flatMap(CDCPosition.init(json:))
        covered = KafkaCoverage(json: offset?["kafka"]) ?? [:]
        if let filter {
            captured = try await catalog.captured(filter, publication: config.publication)
            guard !captured.isEmpty else { throw PipelineError.config(key: "table.include.list", reason: "no table matches the table and schema lists") }
        }
        try await catalog.ensurePublication(config.publication, mode: config.publicationMode, tables: captured)
        if filter == nil { captured = try await catalog.publishedTables(config.publication) }
        let slot = try await catalog.slot(config.slot)
        if let slot {
            if slot.walStatus == "lost" { throw CDCError.slotInvalidated(slot: config.slot, status: "lost") }
            guard slot.plugin == "pgoutput" else { throw CDCError.slotUnusable(slot: config.slot, reason: "it uses the plugin \(slot.plugin), not pgoutput") }
            let database = config.connection.parameters["dbname"] ?? ""
            guard slot.database == database else { throw CDCError.slotUnusable(slot: config.slot, reason: "it belongs to database \(slot.database), not \(database)") }
        }
        try await checkReplicaIdentities()
        if found != nil && offset?["kafka"] == nil {
            logger.notice("the stored offset has no Kafka offsets (stored by an older version); changes delivered after it before a crash may be sent again once")
        }
        try await coverCapturedTopics()
        try await stream.connect()
        switch (found, slot) {
        case (let position?, _?) where position.snapshotCompleted:
            stored = position
            logger.info("resuming replication slot \(config.slot) from \(position.committed)")
            try await recoverDelivered()
        case (let position?, nil) where position.snapshotCompleted:
            guard config.snapshotMode == .whenNeeded else { throw CDCError.slotMissing(slot: config.slot, resumeLSN: position.committed.description) }
            logger.warning("replication slot \(config.slot) is gone (offsets resume from \(position.committed)); snapshot.mode=when_needed: creating it and snapshotting again")
            try await createSlot(exportingSnapshot: true)
        case (_, let slot?):
            if wantsSnapshot {
                guard found != nil else {
                    // Not made by this connector (another consumer's, or Debezium's before a migration): never dropped here.
                    throw CDCError.slotUnusable(
                        slot: config.slot,
                        reason: "it exists but this connector has no offsets for it, so it was made by another consumer; use another slot.name, set snapshot.mode=no_data to stream from it without a snapshot, or drop it to start over")
                }
                // This connector's snapshot that never completed: the slot's exported snapshot
                // is gone with the run that made it. Starting over loses nothing (rows may be read twice).
                logger.warning("replication slot \(config.slot) exists but its snapshot did not complete; dropping it and snapshotting again")
                try await catalog.dropSlot(config.slot)
                try await createSlot(exportingSnapshot: true)
            } else {
                stored = CDCPosition(committed: slot.confirmedFlush ?? .zero, snapshotCompleted: true)
                try await storeStored()
            }
        case (_, nil):
            try await createSlot(exportingSnapshot: wantsSnapshot)
        }
        if snapshot == nil { try await startStreamingOnceSlotIsFree() }
    }

    /// ``startStreaming()``, waiting up to 30 s while the slot is still held
    /// ("replication slot … is active for PID …"): after a crash the killed
    /// run's walsender may take a moment to notice its client is gone.
    func startStreamingOnceSlotIsFree() async throws {
        let deadline = clock.now + .seconds(30)
        while true {
            do {
                return try await startStreaming()
            } catch PostgresError.statement(_, "55006", let message) where clock.now < deadline {
                logger.info("waiting for replication slot \(config.slot): \(message)")
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// `CREATE_REPLICATION_SLOT`; with a snapshot, imports it into a
    /// REPEATABLE READ transaction before the replication connection runs
    /// anything else (which would end the exported snapshot).
    func createSlot(exportingSnapshot: Bool) async throws {
        let rows = try await stream.command(
            "CREATE_REPLICATION_SLOT \(SQL.quote(config.slot)) LOGICAL pgoutput (SNAPSHOT '\(exportingSnapshot ? "export" : "nothing")')",
            operation: "create replication slot \(config.slot)")
        guard let row = rows.first, let point = row[1].flatMap(LSN.init) else {
            throw CDCError.slotUnusable(slot: config.slot, reason: "CREATE_REPLICATION_SLOT returned no consistent point")
        }
        logger.info("created replication slot \(config.slot) at \(point)")
        guard exportingSnapshot, let name = row[2] else {
            stored = CDCPosition(committed: point, snapshotCompleted: true)
            try await storeStored()
            return
        }
        snapshot = try await SnapshotRead.begin(task: self, snapshotName: name, consistentPoint: point)
        // Recorded at once: a restart finding this slot knows it is this connector's,
        // with a snapshot to do again (see start()).
        stored = CDCPosition(committed: point, snapshotCompleted: false)
        try await storeStored()
    }

    func startStreaming() async throws {
        if config.snapshotMode == .initialOnly {
            logger.notice("snapshot.mode=initial_only: the snapshot is complete; not streaming")
            return
        }
        try await stream.start(slot: config.slot, from: stored.committed, publication: config.publication)
        streaming = true
        decoder.restart(at: stored)
        lastBatch = stored
        // What an earlier stream reported counts for nothing now: what it sent
        // after the stored position may not have reached Kafka, and is sent again.
        walEnd = stored.committed
        logger.info("streaming replication slot \(config.slot) from \(stored.committed)")
    }

    /// One batch of the stream. The next batch's receive (reading, decoding
    /// and encoding on the stream's thread) is started before this one is
    /// returned, so it runs while the runner sends this one.
    func poll() async throws -> SourcePoll<CDCBatchPosition> {
        if let snapshot {
            if let batch = try await snapshot.next(task: self) { return .batch(batch) }
            self.snapshot = nil
            try await startStreaming()
        }
        if reconnect { try await restartStream() }
        guard streaming else { return .idle(until: clock.now + .seconds(3600)) }  // initial_only, after the snapshot
        try await reportLag()
        let received = try await (receiving.take() ?? receive()).value
        retry.succeeded()
        decoder = received.state
        walEnd = max(walEnd, received.walEnd)
        if let relation = decoder.relation {
            // The read stopped at it: its writer is made before any later message is taken.
            let key = try await catalog.primaryKey(relation.id)
            decoder.install(encoder.writer(for: CapturedTable(relation: relation, primaryKey: key, topicPrefix: config.topicPrefix, decimalMode: config.decimalMode)), for: relation.id)
            decoder.relation = nil
        }
        var messages = decoder.takeMessages()
        if clock.now >= nextStatusUpdate {
            // Tells the server where the slot stands even while nothing new is
            // confirmed (status.update.interval.ms), so it never waits on a silent client.
            nextStatusUpdate = clock.now + .milliseconds(config.statusUpdateIntervalMilliseconds)
            try await stream.confirm(stored.committed)
        }
        if decoder.transaction == nil && walEnd > decoder.read.committed && clock.now >= nextIdleAdvance {
            // Nothing is open and the server sent everything before walEnd: an
            // empty batch carries the slot there once what is in flight is
            // acknowledged. Without it an idle slot would hold WAL, and a
            // server shutting down would wait for this client's confirmation.
            nextIdleAdvance = clock.now + .seconds(1)
            decoder.read.committed = walEnd
        }
        if config.heartbeatIntervalMilliseconds > 0 && clock.now >= nextHeartbeat {
            nextHeartbeat = clock.now + .milliseconds(config.heartbeatIntervalMilliseconds)
            if decoder.transaction == nil { decoder.read.committed = max(decoder.read.committed, walEnd) }
            messages.append(try heartbeat())
        }
        let read = decoder.read
        receiving = receive()
        guard !messages.isEmpty || read != lastBatch else { return .idle(until: clock.now) }
        lastBatch = read
        return .batch(SourceBatch(messages: messages, position: CDCBatchPosition(.stream(read), messages: messages)))
    }

    /// Starts the next receive on the stream's thread, from ``decoder`` as it is now.
    func receive() -> Task<StreamDecoder.Received, any Error> {
        let stream = self.stream, decoder = self.decoder, maxMessages = config.maxBatchSize
        return Task {
            try await stream.receive(maxMessages: maxMessages, wait: .milliseconds(200), into: decoder) { decoder, lsn, message in
                try decoder.take(message, at: lsn)
            }
        }
    }

    /// Waits for the receive in flight, if any, and drops what it read: the
    /// stream is about to be closed (and resumed from ``stored``, if at all).
    func abandonReceive() async {
        guard let receiving = receiving.take() else { return }
        _ = try? await receiving.value
    }

    /// Debezium's heartbeat record: key `{"serverName":…}`, value `{"ts_ms":…}`.
    func heartbeat() throws -> KafkaMessage {
        let keySchema = Schema.struct("io.debezium.connector.common.ServerNameKey", [Field("serverName", .string)])
        let valueSchema = Schema.struct("io.debezium.connector.common.Heartbeat", [Field("ts_ms", .int64)])
        return KafkaMessage(
            topic: source.heartbeatTopic,
            key: try JsonConverter(schemasEnabled: config.keySchemasEnabled).encode(SchemaAndValue(schema: keySchema, value: .struct([NamedValue("serverName", .string(config.topicPrefix))]))),
            value: try JsonConverter(schemasEnabled: config.valueSchemasEnabled).encode(SchemaAndValue(schema: valueSchema, value: .struct([NamedValue("ts_ms", .int(ChangeEventEncoder.nowMillis()))]))))
    }

    func acknowledged(_ position: CDCBatchPosition, reports: [DeliveryReport]) {
        covered.advance(topics: position.topics, reports: reports, except: source.heartbeatTopic)
        switch position.reach {
        case .snapshot(let last, let point):
            if last { acknowledged = CDCPosition(committed: point, snapshotCompleted: true) }
        case .stream(let position):
            acknowledged = position
        }
    }

    /// Stores the acknowledged position, then confirms it to the slot: the
    /// server may recycle WAL only once the offset store has the position.
    func commit() async throws {
        guard let acknowledged, acknowledged != stored else { return }
        stored = acknowledged
        self.acknowledged = nil
        try await storeStored()
        guard streaming else { return }
        // The next batch is usually being read: its receive sends the confirm.
        if receiving != nil {
            stream.requestConfirm(stored.committed)
        } else {
            try await stream.confirm(stored.committed)
        }
    }

    /// Stores ``stored`` with the Kafka offsets it covers (see ``DeliveredChanges``).
    func storeStored() async throws {
        guard case .object(let members) = stored.json else { return }
        try await source.offsetStore.store([source.offsetKey: .object(members + [("kafka", covered.json)])])
    }

    /// Reports how much WAL the slot holds back every 10 s to the metrics,
    /// and every 30 s to the log.
    func reportLag() async throws {
        guard clock.now >= nextLagReport else { return }
        nextLagReport = clock.now + .seconds(10)
        guard let lag = try? await catalog.slotLag(config.slot) else { return }
        ConnectorMetrics.current?.replicationSlotLag(bytes: lag)
        if clock.now >= nextLagLog {
            nextLagLog = clock.now + .seconds(30)
            logger.info("replication slot \(config.slot): \(lag) bytes of WAL behind the server")
        }
    }

    /// A failed connection is replaced and the stream resumed from the stored
    /// position; the snapshot, slot problems and bad data end the run.
    func failed(_ error: any Error, unsettled: Bool) async throws {
        if error is CancellationError { return }
        // Streaming, or already reconnecting (a reconnect that failed is tried again).
        guard snapshot == nil, streaming || reconnect, Retry.isRetriable(error) else { throw error }
        if unsettled { logger.warning("changes after \(stored.committed) may be sent again: their delivery was not confirmed before \(error)") }
        reconnect = true
        try await retry.failed(error)
    }

    /// Reconnects and resumes after ``stored``, checking first that the slot is still there.
    func restartStream() async throws {
        await abandonReceive()
        await stream.close()
        stream = ReplicationStream(settings: config.connection, name: config.name)
        streaming = false
        if let slot = try await catalog.slot(config.slot) {
            if slot.walStatus == "lost" { throw CDCError.slotInvalidated(slot: config.slot, status: "lost") }
        } else {
            throw CDCError.slotMissing(slot: config.slot, resumeLSN: stored.committed.description)
        }
        try await stream.connect()
        // What the lost connection's batches put in Kafka unacknowledged is not sent twice either.
        try await recoverDelivered()
        do {
            try await startStreaming()
        } catch PostgresError.statement(let operation, "55006", let message) {
            // The dropped connection's walsender has not exited yet ("replication
            // slot … is active for PID …"): wait for it like for an outage.
            throw PostgresError.connectionLost(operation: operation, reason: message)
        }
        reconnect = false
    }

    /// Warns about captured tables whose updates and deletes PostgreSQL will
    /// refuse while they are in the publication (REPLICA IDENTITY NOTHING, or
    /// DEFAULT without a primary key), and about tables without a key (their
    /// events have a null Kafka key).
    func checkReplicaIdentities() async throws {
        for name in captured {
            let relation = try await catalog.relation(name)
            let key = try await catalog.primaryKey(relation.id)
            switch (relation.replicaIdentity, key.isEmpty) {
            case (UInt8(ascii: "n"), _), (UInt8(ascii: "d"), true):
                logger.warning("\(CDCError.notCapturable(table: name, reason: "REPLICA IDENTITY \(relation.replicaIdentity == UInt8(ascii: "n") ? "NOTHING" : "DEFAULT without a primary key"): PostgreSQL rejects its UPDATEs and DELETEs while it is in publication \(config.publication); add a primary key or set REPLICA IDENTITY FULL"))")
            case (_, true):
                logger.warning("\(name) has no primary key: its change events have no Kafka key")
            default:
                break
            }
        }
    }

    func stop() async {
        if let snapshot { await snapshot.abandon(task: self) }
        await abandonReceive()
        // What the last commit only requested (the receive may have ended first).
        if streaming { try? await stream.confirm(stored.committed) }
        await stream.close()
        await source.client.close()
    }
}
