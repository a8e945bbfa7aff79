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
    /// The writers of the tables' events by relation id, as their last Relation message described them.
    var tables: [UInt32: ChangeEventWriter] = [:]
    /// `table.include.list`; nil: whatever the publication sends.
    let filter: TableFilter?
    /// The tables captured when the run started (what the snapshot reads).
    var captured: [String] = []
    /// The position stored in the offset store (and confirmed to the slot).
    var stored = CDCPosition(committed: .zero, snapshotCompleted: false)
    /// Acknowledged, not yet stored.
    var acknowledged: CDCPosition?
    /// What the stream has been read up to (the next batch's position).
    var read = CDCPosition(committed: .zero, snapshotCompleted: true)
    /// Changes at or below this were delivered by an earlier run (or before a reconnect).
    var delivered = CDCPosition(committed: .zero, snapshotCompleted: true)
    /// The transaction being read: its commit record's LSN, id and commit time.
    var transaction: (final: LSN, xid: UInt32, commitMillis: Int64)?
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
    /// Tables without a key already warned about.
    var keylessReported: Set<UInt32> = []
    /// The Kafka offsets what was acknowledged reaches, stored with the position.
    var covered: KafkaCoverage = [:]
    /// Events delivered after the stored position by an earlier run (or
    /// before a reconnect), not sent again when the stream produces them.
    var recovered: DeliveredChanges?

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
        read = stored
        delivered = stored
        lastBatch = stored
        transaction = nil
        // What an earlier stream reported counts for nothing now: what it sent
        // after the stored position may not have reached Kafka, and is sent again.
        walEnd = stored.committed
        logger.info("streaming replication slot \(config.slot) from \(stored.committed)")
    }

    func poll() async throws -> SourcePoll<CDCBatchPosition> {
        if let snapshot {
            if let batch = try await snapshot.next(task: self) { return .batch(batch) }
            self.snapshot = nil
            try await startStreaming()
        }
        if reconnect { try await restartStream() }
        guard streaming else { return .idle(until: clock.now + .seconds(3600)) }  // initial_only, after the snapshot
        try await reportLag()
        let received = try await stream.receive(maxMessages: config.maxBatchSize, wait: .milliseconds(200))
        retry.succeeded()
        walEnd = max(walEnd, received.walEnd)
        var messages: [KafkaMessage] = []
        for (lsn, message) in received.messages {
            try await handle(message, at: lsn, into: &messages)
        }
        if clock.now >= nextStatusUpdate {
            // Tells the server where the slot stands even while nothing new is
            // confirmed (status.update.interval.ms), so it never waits on a silent client.
            nextStatusUpdate = clock.now + .milliseconds(config.statusUpdateIntervalMilliseconds)
            try await stream.confirm(stored.committed)
        }
        if transaction == nil && walEnd > read.committed && clock.now >= nextIdleAdvance {
            // Nothing is open and the server sent everything before walEnd: an
            // empty batch carries the slot there once what is in flight is
            // acknowledged. Without it an idle slot would hold WAL, and a
            // server shutting down would wait for this client's confirmation.
            nextIdleAdvance = clock.now + .seconds(1)
            read.committed = walEnd
        }
        if config.heartbeatIntervalMilliseconds > 0 && clock.now >= nextHeartbeat {
            nextHeartbeat = clock.now + .milliseconds(config.heartbeatIntervalMilliseconds)
            if transaction == nil { read.committed = max(read.committed, walEnd) }
            messages.append(try heartbeat())
        }
        guard !messages.isEmpty || read != lastBatch else { return .idle(until: clock.now) }
        lastBatch = read
        return .batch(SourceBatch(messages: messages, position: CDCBatchPosition(.stream(read), messages: messages)))
    }

    /// Turns one pgoutput message into events (appended to `messages`) and position changes.
    func handle(_ message: PgOutputMessage, at lsn: LSN, into messages: inout [KafkaMessage]) async throws {
        switch message {
        case .begin(let final, let micros, let xid):
            transaction = (final, xid, micros / 1000 + ReplicationFrame.postgresEpochOffsetMicros / 1000)
        case .commit(_, let end, _):
            read.committed = max(read.committed, end)
            read.partial = nil
            transaction = nil
        case .relation(let relation):
            guard filter?.matches("\(relation.namespace).\(relation.name)") ?? true else { return }
            let key = try await catalog.primaryKey(relation.id)
            tables[relation.id] = encoder.writer(for: CapturedTable(relation: relation, primaryKey: key, topicPrefix: config.topicPrefix, decimalMode: config.decimalMode))
        case .insert(let id, let new):
            try capture(.insert(new), of: id, at: lsn, into: &messages)
        case .update(let id, let old, _, let new):
            try capture(.update(old: old, new: new), of: id, at: lsn, into: &messages)
        case .delete(let id, let old, _):
            try capture(.delete(old: old), of: id, at: lsn, into: &messages)
        case .truncate(let ids, _):
            for id in ids { try capture(.truncate, of: id, at: lsn, into: &messages) }
        case .origin, .type, .message:
            break
        }
    }

    func capture(_ change: CapturedChange, of id: UInt32, at lsn: LSN, into messages: inout [KafkaMessage]) throws {
        guard let transaction else { throw PostgresError.schema(table: "relation \(id)", reason: "a change outside a transaction at \(lsn)") }
        guard !delivered.delivered(lsn, of: transaction.final) else { return }
        read.partial = .init(transaction: transaction.final, change: lsn)
        // Through the dictionary's index: its values are written in place, never copied out and back.
        guard let slot = tables.index(forKey: id) else { return }  // not captured
        guard !config.skippedOperations.contains(change.operation) else { return }
        if tables.values[slot].table.keyIndexes.isEmpty, keylessReported.insert(id).inserted {
            logger.warning("\(tables.values[slot].table.label) has no primary key: its change events have no Kafka key (first at \(lsn))")
        }
        let origin = ChangeOrigin(lsn: lsn, txId: transaction.xid, commitMillis: transaction.commitMillis)
        let events = try tables.values[slot].messages(change, origin: origin)
        guard recovered != nil else {
            messages += events
            return
        }
        for event in events where !recovered!.take(event, lsn: lsn) { messages.append(event) }
        if recovered!.isEmpty {
            logger.info("every change delivered before the restart was met again at \(lsn); none was sent twice")
            recovered = nil
        }
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
        if streaming { try await stream.confirm(stored.committed) }
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
        await stream.close()
        await source.client.close()
    }
}
