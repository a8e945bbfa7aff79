import Logging
import PipelineCore

/// What one batch did.
public struct BatchResult: Sendable, Equatable {
    /// The next offset to read per partition, now stored in MySQL with the
    /// rows: commit these to Kafka.
    public var nextOffsets: [TopicPartition: Int64]
    /// Records applied to their tables.
    public var written: Int
    /// Records skipped because MySQL already had them (a redelivery).
    public var skipped: Int
    /// Bad records, sent to the dead-letter topic (or skipped when
    /// `errors.tolerance=all` has no topic).
    public var failed: Int

    /// A result with these counts.
    public init(nextOffsets: [TopicPartition: Int64], written: Int, skipped: Int, failed: Int) {
        self.nextOffsets = nextOffsets
        self.written = written
        self.skipped = skipped
        self.failed = failed
    }
}

/// Writes batches of Kafka messages into MySQL exactly once.
///
/// Each batch is one transaction holding its rows and the offsets they
/// cover (``MySQLOffsetTable``); records below the stored offset of their
/// partition are skipped, so a batch delivered again after a crash — before
/// or after its Kafka commit, even with a COMMIT whose answer was lost — adds
/// nothing twice. Tables are created and evolved before the transaction
/// (DDL commits implicitly in MySQL). Usable without ``MySQLSink`` by anyone
/// who consumes the messages themselves.
public actor MySQLRecordWriter {
    /// The settings the writer was made with.
    public let config: MySQLSinkConfig
    private let connection: MySQLConnection
    private let catalog: TableCatalog
    private let offsets: MySQLOffsetTable
    private let extractor: RowExtractor
    private let writer: BatchWriter
    private let deadLetters: DeadLetterQueue?
    private let logger: Logger
    /// Destination table per topic.
    private var tables: [String: Result<TableRef, SchemaError>] = [:]
    /// Columns per topic, key and value schema, and operation.
    private var plans: [PlanKey: Result<RowPlan, SchemaError>] = [:]
    /// Plan ids are never reused, so rows of different plans never look alike.
    private var nextPlanID = 1
    /// The shape of each table's truncate rows (they have no plan: no columns).
    private var truncateShapes: [TableRef: Int] = [:]
    private let keyConverter: RecordConverter
    private let valueConverter: RecordConverter
    /// The key schema of `key.converter=StringConverter`.
    private static let stringKey = SchemaInterner.shared.intern(Schema.string.asOptional)
    /// Partitions whose offset row exists in MySQL.
    private var knownPartitions: Set<TopicPartition> = []
    private var prepared = false

    /// `deadLetters` receives bad records when `errors.tolerance=all`.
    public init(config: MySQLSinkConfig, deadLetters: DeadLetterQueue? = nil, logger: Logger = Logger(label: "tributary.mysql-sink")) {
        self.config = config
        self.connection = MySQLConnection(options: config.connection, reconnectPolicy: config.reconnect, logger: logger)
        self.catalog = TableCatalog(connection: connection, autoCreate: config.autoCreate, autoEvolve: config.autoEvolve, logger: logger)
        self.offsets = MySQLOffsetTable(table: TableRef(name: config.offsetsTable), groupID: config.groupID)
        self.extractor = RowExtractor(config: config)
        self.keyConverter = RecordConverter(isKey: true, schemasEnabled: config.keySchemasEnabled, registry: config.keyRegistry)
        self.valueConverter = RecordConverter(isKey: false, schemasEnabled: config.valueSchemasEnabled, registry: config.valueRegistry)
        self.writer = BatchWriter(mode: config.insertMode)
        self.deadLetters = deadLetters
        self.logger = logger
    }

    /// Connects and creates the offsets table if needed.
    public func prepare() async throws {
        guard !prepared else { return }
        try await connection.execute(offsets.createTable)
        prepared = true
    }

    /// Offsets stored for this connector's group: where to resume.
    public func storedOffsets() async throws -> [TopicPartition: Int64] {
        try await prepare()
        let offsets = self.offsets
        return try await connection.withSession(retryingOnLostConnection: true) { session in try offsets.load(session) }
    }

    /// Makes the connector resume each partition at the given offset (next
    /// offset to read), back as well as forward: KIP-875's alter, for a
    /// stopped connector only (a running one would move the offsets on).
    /// MySQL's offsets are the ones the sink resumes from.
    public func replaceStoredOffsets(_ offsets: [TopicPartition: Int64]) async throws {
        try await prepare()
        let table = self.offsets
        try await connection.transaction { session in try table.replace(offsets, session: session) }
    }

    /// Closes the MySQL connection.
    public func close() async {
        await connection.close()
    }

    /// Writes `messages` (any topics and partitions, in consumption order) in
    /// one transaction with their offsets: ``decode(_:)`` then ``write(_:deadLetters:)``.
    public func write(_ messages: [KafkaMessage]) async throws -> BatchResult {
        try await prefetchSchemas(messages)
        return try await write(decode(messages))
    }

    /// Fetches the registry schemas `messages` need before ``decode(_:)``
    /// (with AvroConverter; nothing with JsonConverter). Throws when the
    /// registry cannot be reached; an id it does not have fails that record.
    public nonisolated func prefetchSchemas(_ messages: [KafkaMessage]) async throws {
        if !config.keyIsString { try await keyConverter.prefetch(messages.lazy.map(\.key)) }
        try await valueConverter.prefetch(messages.lazy.map(\.value))
    }

    /// Reads keys and values into MySQL values, off the writer's actor: pure
    /// CPU, so ``MySQLSink`` decodes the next batch while this one is written.
    /// Bad records are kept in the batch, reported in order by the write.
    public nonisolated func decode(_ messages: [KafkaMessage]) -> MySQLBatch {
        MySQLBatch(messages: messages, rows: messages.map { message in Result { () throws(RecordFailure) in try fields(of: message) } })
    }

    /// Writes a decoded batch in one transaction with its offsets.
    ///
    /// Bad records (not JSON, not a Struct, NULL into NOT NULL, incompatible
    /// schema) stop the batch with ``PipelineError/badMessage(position:reason:)``
    /// naming topic, partition and offset, unless `errors.tolerance=all`: then
    /// they go to the dead-letter topic (`deadLetters`, else the writer's
    /// own), acknowledged before the transaction commits, so none is lost.
    /// Other failures are retried `max.retries` times with capped
    /// exponential backoff, then thrown; outages are waited out.
    public func write(_ batch: MySQLBatch, deadLetters: DeadLetterQueue? = nil) async throws -> BatchResult {
        let messages = batch.messages
        guard !messages.isEmpty else { return BatchResult(nextOffsets: [:], written: 0, skipped: 0, failed: 0) }
        try await prepare()
        let next = Self.nextOffsets(messages)
        var rows: [SinkRow] = []
        rows.reserveCapacity(messages.count)
        var failures: [RecordFailure] = []
        for (message, decoded) in zip(messages, batch.rows) {
            do {
                let fields = try decoded.get()
                if let reason = fields.skipReason {
                    logger.debug("record skipped", metadata: ["at": "\(message.position)", "reason": "\(reason)"])
                    continue
                }
                rows.append(fields.isTruncate ? try truncateRow(message) : try row(message, fields))
            } catch {
                failures.append(error)
            }
        }
        let deadLetters = deadLetters ?? self.deadLetters
        var reported = 0
        var attempt = 0
        var retry = RetryLoop(
            waitingFor: "writing a batch to MySQL", logger: logger,
            backoff: .outage(cappedAt: config.retryBackoff))
        while true {
            do {
                let live = try await ensureTables(rows, failures: &failures)
                try await report(Array(failures[reported...]), messages: messages, to: deadLetters)
                reported = failures.count
                let counts = try await commit(live, next: next)
                knownPartitions.formUnion(next.keys)
                return BatchResult(nextOffsets: next, written: counts.written, skipped: counts.skipped, failed: failures.count)
            } catch let poison as PoisonFound {
                // Found while writing: the transaction rolled back; report them
                // and write the rest again.
                failures += poison.failures
            } catch let error where Self.isRetriable(error) {
                // An outage (connection lost, server restarting, broker down)
                // is waited out however long it lasts; `max.retries` bounds
                // only errors the database itself raises again and again.
                if !Self.isOutage(error) {
                    attempt += 1
                    guard attempt <= config.maxRetries else {
                        logger.error("giving up on a batch", metadata: ["attempts": "\(attempt)", "error": "\(error)"])
                        throw error
                    }
                }
                await catalog.invalidate()
                try await retry.failed(error)
            }
        }
    }

    // MARK: - Steps

    /// The key and value of one message. They are read straight from their
    /// bytes into MySQL values (``SQLFields``); a message that fast path does
    /// not take goes through the full decoder, which names what is wrong.
    private nonisolated func fields(of message: KafkaMessage) throws(RecordFailure) -> DecodedFields {
        var key = SQLFields(), value = SQLFields()
        var keySchema: InternedSchema?, valueSchema: InternedSchema?
        var fast = true
        if let bytes = message.key {
            if config.keyIsString {
                keySchema = Self.stringKey
                key.string(0, String(decoding: bytes, as: UTF8.self))
            } else if let location = keyConverter.json?.read(bytes, into: &key) {
                keySchema = location.schema
            } else {
                fast = false
            }
        }
        if fast, let bytes = message.value, let location = valueConverter.json?.read(bytes, into: &value) {
            valueSchema = location.schema
        } else {
            fast = false
        }
        // Change events (and, with ExtractNewRecordState, tombstones) take the full decoder.
        let changeEvents = config.extractNewRecordState != nil || ChangeEventAction.isEnvelope(valueSchema?.schema)
        if !fast || changeEvents {
            let record = try decode(message)
            if let action = ChangeEventAction.of(
                record.value, transform: config.extractNewRecordState, deleteEnabled: config.deleteEnabled, truncateEnabled: config.truncateEnabled) {
                return try changeEvent(action, record: record, message: message)
            }
            keySchema = record.key?.schema.map(SchemaInterner.shared.intern)
            valueSchema = record.value?.schema.map(SchemaInterner.shared.intern)
            key = keySchema.map { SQLFields(record.key!.value, schema: $0.schema) } ?? SQLFields()
            value = valueSchema.map { SQLFields(record.value!.value, schema: $0.schema) } ?? SQLFields()
            if record.value == nil {
                return DecodedFields(keySchema: keySchema, valueSchema: nil, isDelete: true, key: key, value: value)
            }
        }
        return DecodedFields(keySchema: keySchema, valueSchema: valueSchema, isDelete: false, key: key, value: value)
    }

    /// A change event's key and value, as its action says.
    private nonisolated func changeEvent(_ action: ChangeEventAction, record: Record, message: KafkaMessage) throws(RecordFailure) -> DecodedFields {
        let keySchema = record.key?.schema.map(SchemaInterner.shared.intern)
        let key = keySchema.map { SQLFields(record.key!.value, schema: $0.schema) } ?? SQLFields()
        switch action {
        case .write(let row):
            let schema = SchemaInterner.shared.intern(row.schema!)
            return DecodedFields(keySchema: keySchema, valueSchema: schema, isDelete: false, key: key, value: SQLFields(row.value, schema: schema.schema))
        case .delete:
            return DecodedFields(keySchema: keySchema, valueSchema: nil, isDelete: true, key: key, value: SQLFields())
        case .truncate:
            return DecodedFields(keySchema: nil, valueSchema: nil, isDelete: false, key: SQLFields(), value: SQLFields(), isTruncate: true)
        case .skip(let reason):
            if reason.hasPrefix("truncate") { logger.warning("change event skipped", metadata: ["at": "\(message.position)", "reason": "\(reason)"]) }
            return DecodedFields(keySchema: nil, valueSchema: nil, isDelete: false, key: key, value: SQLFields(), skipReason: reason)
        }
    }

    /// The row of a truncate event: its table, no columns.
    private func truncateRow(_ message: KafkaMessage) throws(RecordFailure) -> SinkRow {
        do {
            let table = try table(for: message.topic).get()
            let shape = truncateShapes[table] ?? nextPlanID
            if truncateShapes[table] == nil {
                truncateShapes[table] = shape
                nextPlanID += 1
            }
            return SinkRow(
                topicPartition: message.topicPartition, offset: message.offset, table: table, operation: .truncate,
                columns: [], keyCount: 0, values: [], shape: shape)
        } catch {
            throw RecordFailure(topicPartition: message.topicPartition, offset: message.offset, error: error, stage: "TASK_PUT")
        }
    }

    /// The row of a decoded message, through the plan of its topic and schemas.
    private func row(_ message: KafkaMessage, _ fields: DecodedFields) throws(RecordFailure) -> SinkRow {
        do {
            return try plan(topic: message.topic, key: fields.keySchema, value: fields.valueSchema, isDelete: fields.isDelete).get()
                .row(message.topicPartition, offset: message.offset, key: fields.key, value: fields.value)
        } catch {
            throw RecordFailure(topicPartition: message.topicPartition, offset: message.offset, error: error, stage: "TASK_PUT")
        }
    }

    private func plan(topic: String, key: InternedSchema?, value: InternedSchema?, isDelete: Bool) -> Result<RowPlan, SchemaError> {
        let planKey = PlanKey(topic: topic, key: key?.id ?? 0, value: value?.id ?? 0, isDelete: isDelete)
        if let known = plans[planKey] { return known }
        let extractor = self.extractor
        let id = nextPlanID
        nextPlanID += 1
        // Only pathological input has this many schemas: start over.
        if plans.count >= 1024 { plans.removeAll() }
        let plan = table(for: topic).flatMap { table in
            Result { () throws(SchemaError) in
                try extractor.plan(table: table, key: key?.schema, value: value?.schema, isDelete: isDelete, id: id)
            }
        }
        plans[planKey] = plan
        return plan
    }

    /// The full decoder, for what the fast path does not take; its errors
    /// name the record and Connect's stage.
    private nonisolated func decode(_ message: KafkaMessage) throws(RecordFailure) -> Record {
        let key: SchemaAndValue?
        let value: SchemaAndValue?
        do {
            if config.keyIsString {
                key = message.key.map { SchemaAndValue(schema: Self.stringKey.schema, value: .string(String(decoding: $0, as: UTF8.self))) }
            } else {
                key = try keyConverter.decode(message.key)
            }
        } catch {
            throw RecordFailure(
                topicPartition: message.topicPartition, offset: message.offset,
                error: PipelineError.badMessage(position: message.position, reason: "key: \(error)"), stage: "KEY_CONVERTER")
        }
        do {
            value = try valueConverter.decode(message.value)
        } catch {
            throw RecordFailure(
                topicPartition: message.topicPartition, offset: message.offset,
                error: PipelineError.badMessage(position: message.position, reason: "value: \(error)"), stage: "VALUE_CONVERTER")
        }
        return Record(
            topic: message.topic, partition: message.partition, offset: message.offset, key: key, value: value,
            headers: message.headers, timestamp: message.timestamp)
    }

    /// Creates and evolves the tables the rows need. Rows whose table cannot
    /// take them become failures; deletes on a table that does not exist are
    /// dropped (there is nothing to delete). Returns the rows to write.
    private func ensureTables(_ rows: [SinkRow], failures: inout [RecordFailure]) async throws -> [SinkRow] {
        var failed = Set(failures.map { RecordPosition($0.topicPartition, $0.offset) })
        // By plan: rows of one plan have the same table, columns and operation.
        var outcome: [Int: Result<Bool, SchemaError>] = [:]
        var live: [SinkRow] = []
        live.reserveCapacity(rows.count)
        // Without failures there is nothing to look up: no position hashed per row.
        for row in rows where failed.isEmpty || !failed.contains(RecordPosition(row.topicPartition, row.offset)) {
            let key = row.shape
            if outcome[key] == nil {
                do {
                    if row.operation == .delete || row.operation == .truncate {
                        outcome[key] = .success(try await catalog.ensureForDelete(row.table, keys: row.columns))
                    } else {
                        try await catalog.ensure(row.table, columns: row.columns)
                        outcome[key] = .success(true)
                    }
                } catch let error as SchemaError {
                    outcome[key] = .failure(error)
                }
            }
            switch outcome[key]! {
            case .success(true): live.append(row)
            case .success(false): logger.debug("delete for a missing table ignored", metadata: ["table": "\(row.table)", "at": "\(row.position)"])
            case .failure(let error):
                failures.append(RecordFailure(topicPartition: row.topicPartition, offset: row.offset, error: error, stage: "TASK_PUT"))
                failed.insert(RecordPosition(row.topicPartition, row.offset))
            }
        }
        return live
    }

    /// Stops on the first bad record, or sends them to the dead-letter topic
    /// and waits for the broker's acknowledgement.
    private func report(
        _ failures: [RecordFailure], messages batchMessages: [KafkaMessage], to deadLetters: DeadLetterQueue?
    ) async throws {
        guard let first = failures.first else { return }
        guard config.toleratesErrors else {
            if let error = first.error as? PipelineError, case .badMessage = error { throw error }  // already names the record
            throw PipelineError.badMessage(position: first.position, reason: first.description)
        }
        guard let deadLetters else {
            for failure in failures {
                logger.warning("bad record skipped (errors.tolerance=all, no dead-letter topic)", metadata: ["at": "\(failure.position)", "error": "\(failure)"])
            }
            ConnectorMetrics.current?.failed(failures.count)
            return
        }
        // Built only when there is something to report: a map per batch
        // would hash and copy every message of every clean batch.
        var messages: [RecordPosition: KafkaMessage] = [:]
        for message in batchMessages { messages[RecordPosition(message.topicPartition, message.offset)] = message }
        // In record order; DeadLetterQueue takes one stage per call, so send
        // each run of equal stages together.
        let ordered = failures.sorted { ($0.topicPartition, $0.offset) < ($1.topicPartition, $1.offset) }
        var start = 0
        while start < ordered.count {
            var end = start + 1
            while end < ordered.count && ordered[end].stage == ordered[start].stage { end += 1 }
            let batch = ordered[start..<end].compactMap { failure -> (message: KafkaMessage, error: Error)? in
                messages[RecordPosition(failure.topicPartition, failure.offset)].map { ($0, failure.error) }
            }
            try await deadLetters.send(batch, stage: ordered[start].stage)
            start = end
        }
        for failure in ordered {
            logger.warning(
                "bad record sent to the dead-letter topic (errors.tolerance=all)",
                metadata: ["at": "\(failure.position)", "topic": "\(deadLetters.topic)", "error": "\(failure)"])
        }
    }

    /// The transaction: lock the partitions' offsets, skip what is already
    /// stored, write, store the new offsets.
    private func commit(_ rows: [SinkRow], next: [TopicPartition: Int64]) async throws -> (written: Int, skipped: Int) {
        let offsets = self.offsets
        let writer = self.writer
        let partitions = next.keys.sorted()
        let create = partitions.filter { !knownPartitions.contains($0) }
        return try await connection.transaction { session in
            let stored = try offsets.lock(partitions, creating: create, session: session)
            let live = Self.notStored(rows, stored: stored)
            let failures = try writer.write(live, session: session)
            if !failures.isEmpty { throw PoisonFound(failures: failures) }
            try offsets.store(next, session: session)
            return (live.count, rows.count - live.count)
        }
    }

    // MARK: - Helpers

    /// Per partition, the offset after the batch's last message.
    static func nextOffsets(_ messages: [KafkaMessage]) -> [TopicPartition: Int64] {
        perPartition(messages, \.topicPartition, { $0.offset + 1 }, max)
    }

    /// The rows past what MySQL already stores for their partitions (a
    /// re-delivery is skipped). Usually all of them: then `rows` is returned
    /// as it is, after one comparison per partition rather than a lookup per row.
    static func notStored(_ rows: [SinkRow], stored: [TopicPartition: Int64]) -> [SinkRow] {
        let lowest = perPartition(rows, \.topicPartition, \.offset, min)
        if lowest.allSatisfy({ $0.value >= stored[$0.key] ?? .min }) { return rows }
        return rows.filter { $0.offset >= stored[$0.topicPartition] ?? .min }
    }

    /// `combine` of `value` over each partition's items. A batch comes in
    /// runs of one partition, so the map is touched once per run, not per item.
    private static func perPartition<Item>(
        _ items: [Item], _ partition: (Item) -> TopicPartition, _ value: (Item) -> Int64, _ combine: (Int64, Int64) -> Int64
    ) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        var run: (partition: TopicPartition, value: Int64)?
        func flush() {
            guard let run else { return }
            result[run.partition] = result[run.partition].map { combine($0, run.value) } ?? run.value
        }
        for item in items {
            let itemPartition = partition(item)
            if let current = run, current.partition == itemPartition {
                run!.value = combine(current.value, value(item))
                continue
            }
            flush()
            run = (itemPartition, value(item))
        }
        flush()
        return result
    }

    private func table(for topic: String) -> Result<TableRef, SchemaError> {
        if let known = tables[topic] { return known }
        let table = extractor.table(for: topic)
        tables[topic] = table
        return table
    }

    static func isRetriable(_ error: Error) -> Bool {
        // Any MySQL error: connection, deadlock, or e.g. a table dropped underneath: try again.
        error is MySQLError || Retry.isRetriable(error)
    }

    /// A service that is away rather than an error of the batch.
    static func isOutage(_ error: Error) -> Bool {
        if let error = error as? MySQLError { return error.kind == .connectionLost }
        return Retry.isRetriable(error)
    }
}

/// Messages decoded by ``MySQLRecordWriter/decode(_:)``, ready to write.
public struct MySQLBatch: Sendable {
    /// The messages, in consumption order.
    public let messages: [KafkaMessage]
    /// Per message: its key and value as MySQL values, or why not.
    let rows: [Result<DecodedFields, RecordFailure>]
}

/// A message's key and value read into MySQL values, with their schemas.
struct DecodedFields: Sendable {
    let keySchema: InternedSchema?
    let valueSchema: InternedSchema?
    let isDelete: Bool
    let key: SQLFields
    let value: SQLFields
    /// Why nothing is written for this record (a change event the sink does not apply).
    var skipReason: String? = nil
    /// A truncate event: every row of the table goes.
    var isTruncate = false
}

/// Rows the database refused, found inside the transaction (which then rolls back).
struct PoisonFound: Error {
    let failures: [RecordFailure]
}

struct RecordPosition: Hashable, Sendable {
    let topicPartition: TopicPartition
    let offset: Int64
    init(_ topicPartition: TopicPartition, _ offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}

/// What a ``RowPlan`` is made for.
private struct PlanKey: Hashable {
    let topic: String
    /// ``InternedSchema`` ids, 0 for none.
    let key: Int
    let value: Int
    let isDelete: Bool
}
