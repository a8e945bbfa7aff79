import PipelineCore

/// One table (or the custom query) being polled: how to read it, where it
/// stands, and what it waits for.
struct TableTask: Sendable {
    enum Phase: Sendable {
        /// Probe when `due`.
        case idle(due: ContinuousClock.Instant)
        /// Waiting for `writers` to end before reading up to `upper` (see ``CommitFence``).
        case fenced(upper: SourceOffset, writers: [String], due: ContinuousClock.Instant, retry: Duration)
    }

    let info: TableInfo
    let topic: String
    /// The offset store key: `<connector>/<schema>.<table>` or `<connector>/query`.
    let partition: String
    let readers: [ColumnReader]
    /// Each reader's kind: a page's loop writes cells through these, as
    /// reading a reader out of `readers` copies its name and schema.
    let kinds: [ColumnReader.Kind]
    /// Indexes into `readers` of the primary key columns.
    let keyIndexes: [Int]
    let valueSchema: InternedSchema
    let keySchema: InternedSchema?
    /// Per value field, the column it is read from: the first of that name,
    /// as the converter matched struct fields by name.
    let valueColumns: [Int]
    let query: TableQuery
    let scope: CommitFence.Scope
    /// Everything at or below this has been delivered (and stored).
    var offset: SourceOffset?
    /// Whether ``offset`` came from the offset store; false when it was
    /// computed from `timestamp.initial` (it then has no Kafka positions yet).
    var offsetIsStored = false
    var phase: Phase = .idle(due: .now)
    /// Kafka positions and records awaiting re-read after a restart (see ``DeliveredRecords``).
    var recovery = Recovery()

    var label: String { info.label }

    /// Checks `info` against the configuration and prepares the reads. Errors
    /// name the key at fault: a missing or unsuitable column, a nullable key column
    /// with `validate.non.null`, an unmappable type.
    init(info: TableInfo, config: PostgresSourceConfig) throws {
        self.info = info
        let label = info.label
        let mode = config.mode
        var incrementing: ColumnInfo?
        if mode.usesIncrementing {
            if let name = config.incrementingColumn {
                guard let column = info.column(name) else {
                    throw PipelineError.config(key: "incrementing.column.name", reason: "column '\(name)' not found in \(label) (columns: \(info.columns.map(\.name).joined(separator: ", ")))")
                }
                incrementing = column
            } else {
                let serial = info.columns.filter(\.isSerial)
                guard serial.count == 1 else {
                    throw PipelineError.config(key: "incrementing.column.name", reason: "\(label) has \(serial.isEmpty ? "no" : "more than one") serial/identity column; name the incrementing column")
                }
                incrementing = serial[0]
            }
            guard [ColumnReader.OID.int2, ColumnReader.OID.int4, ColumnReader.OID.int8].contains(incrementing!.typeOID) else {
                throw PipelineError.config(key: "incrementing.column.name", reason: "column '\(incrementing!.name)' of \(label) is \(incrementing!.typeName), not an integer")
            }
        }
        var timestamps: [ColumnInfo] = []
        if mode.usesTimestamp {
            for name in config.timestampColumns {
                guard let column = info.column(name) else {
                    throw PipelineError.config(key: "timestamp.column.name", reason: "column '\(name)' not found in \(label) (columns: \(info.columns.map(\.name).joined(separator: ", ")))")
                }
                guard [ColumnReader.OID.timestamp, ColumnReader.OID.timestamptz].contains(column.typeOID) else {
                    throw PipelineError.config(key: "timestamp.column.name", reason: "column '\(name)' of \(label) is \(column.typeName), not a timestamp")
                }
                timestamps.append(column)
            }
            if Set(timestamps.map(\.typeOID)).count > 1 {
                throw PipelineError.config(key: "timestamp.column.name", reason: "columns of \(label) mix timestamp and timestamptz")
            }
        }
        if config.validateNonNull {
            if let incrementing, incrementing.notNull == false {
                throw PipelineError.config(key: "validate.non.null", reason: "incrementing column '\(incrementing.name)' of \(label) is nullable; make it NOT NULL or set validate.non.null=false")
            }
            if !timestamps.isEmpty && timestamps.allSatisfy({ $0.notNull == false }) {
                throw PipelineError.config(key: "validate.non.null", reason: "timestamp columns \(timestamps.map(\.name)) of \(label) are all nullable; make one NOT NULL or set validate.non.null=false")
            }
        }
        let readers = try info.columns.map { column in
            try ColumnReader(column, optional: column.notNull != true, numericMapping: config.numericMapping, table: label)
        }
        self.readers = readers
        kinds = readers.map(\.kind)
        keyIndexes = info.primaryKey.compactMap { key in info.columns.firstIndex { $0.name == key } }
        valueSchema = SchemaInterner.shared.intern(.struct(info.name?.table, readers.map { Field($0.name, $0.schema) }))
        keySchema = keyIndexes.isEmpty ? nil : SchemaInterner.shared.intern(.struct(nil, keyIndexes.map { Field(readers[$0].name, readers[$0].schema) }))
        valueColumns = readers.map { reader in readers.firstIndex { $0.name == reader.name }! }
        topic = config.topicPrefix + (info.name?.table ?? "")
        partition = config.name + "/" + (info.name.map { "\($0.schema ?? "public").\($0.table)" } ?? "query")
        let timestampExpression = timestamps.isEmpty ? nil
            : timestamps.count == 1 ? SQL.quote(timestamps[0].name) : "COALESCE(\(timestamps.map { SQL.quote($0.name) }.joined(separator: ", ")))"
        query = TableQuery(
            mode: mode, from: info.name?.quoted ?? "(\(config.query!)) AS q", columns: info.columns.map { SQL.quote($0.name) },
            incrementing: incrementing.map { SQL.quote($0.name) }, timestamp: timestampExpression,
            timestampType: timestamps.first.map { $0.typeOID == ColumnReader.OID.timestamp ? "timestamp" : "timestamptz" },
            delayMilliseconds: config.timestampDelayMilliseconds, suffix: config.querySuffix)
        // Views and queries may write through to any table: wait for writers database-wide.
        scope = info.oid.map { ["r", "p"].contains(info.kind) ? .table(oid: $0) : .database } ?? .database
    }

    /// One page of rows as Kafka messages, with the positions it reaches.
    struct Page: Sendable {
        var messages: [KafkaMessage] = []
        /// The key of the last row.
        var last: SourceOffset?
        /// A position every row at or below which is in this page or an earlier
        /// one. Equal to `last` with unique keys; in timestamp mode the largest
        /// timestamp below the last row's, as more rows may share that one.
        var complete: SourceOffset?
        /// How many of `messages` (from the first) are covered by `complete`.
        var covered = 0
        /// A row that cannot be converted, naming table, row and column: the
        /// page ends before it, so the rows above it are still delivered and
        /// the source stops at it (and stops there again after a restart).
        var failure: PostgresError?
    }

    /// Converts a fetched result into pages of at most `pageSize` rows (at
    /// least one page, empty for an empty result; the last one ends at a bad
    /// row, if any); `previous` is the last row before the result.
    /// Runs on the connection's thread: cells are read in place and written
    /// straight into message bytes (``EnvelopeWriter`` or ``AvroRecordWriter``).
    func pages(from result: PGResult, after previous: SourceOffset?, writers: RowWriters, pageSize: Int) throws -> [Page] {
        func envelope(_ schema: InternedSchema, _ schemasEnabled: Bool, _ prefix: [UInt8], _ numeric: Bool) -> EnvelopeWriter {
            EnvelopeWriter(schema, schemasEnabled: schemasEnabled, prefix: prefix, decimalsAsNumbers: numeric)
        }
        let keySchema = self.keySchema
        switch (writers.value, writers.key) {
        case (.envelope(let vs, let vp, let vn), .envelope(let ks, let kp, let kn)):
            return try pages(from: result, after: previous, pageSize: pageSize, values: envelope(valueSchema, vs, vp, vn), keys: keySchema.map { envelope($0, ks, kp, kn) })
        case (.envelope(let vs, let vp, let vn), .avro(let k)):
            return try pages(
                from: result, after: previous, pageSize: pageSize, values: envelope(valueSchema, vs, vp, vn),
                keys: try keySchema.map { (s) throws(CodecError) in try AvroRecordWriter(k, schema: s.schema) })
        case (.avro(let v), .envelope(let ks, let kp, let kn)):
            return try pages(from: result, after: previous, pageSize: pageSize, values: AvroRecordWriter(v, schema: valueSchema.schema), keys: keySchema.map { envelope($0, ks, kp, kn) })
        case (.avro(let v), .avro(let k)):
            return try pages(
                from: result, after: previous, pageSize: pageSize, values: AvroRecordWriter(v, schema: valueSchema.schema),
                keys: try keySchema.map { (s) throws(CodecError) in try AvroRecordWriter(k, schema: s.schema) })
        }
    }

    private func pages<V: RecordWriter, K: RecordWriter>(
        from result: PGResult, after previous: SourceOffset?, pageSize: Int, values: V, keys: K?
    ) throws -> [Page] {
        var pages: [Page] = []
        var page = Page()
        var start = 0
        var before = previous
        var values = values
        var keys = keys
        page.messages.reserveCapacity(min(pageSize, result.rowCount))
        let width = readers.count
        func offset(_ row: Int) -> SourceOffset {
            SourceOffset(timestamp: result.string(row, width), incrementing: result.string(row, width + 1).flatMap { Int64($0) })
        }
        // In every mode but timestamp alone positions only grow, so each row's
        // is complete and only a page's last row needs reading (two cells
        // parsed per page, not per row).
        let positionsOrdered = query.mode != .timestamp
        var lastRow: Int?
        func close(_ page: inout Page) {
            guard positionsOrdered, let lastRow, lastRow >= start else { return }
            page.last = offset(lastRow)
            page.complete = page.last
            page.covered = lastRow - start + 1
        }
        rows: for row in 0..<result.rowCount {
            if row - start == pageSize {
                close(&page)
                pages.append(page)
                page = Page()
                page.messages.reserveCapacity(min(pageSize, result.rowCount - row))
                start = row
            }
            do {
                for column in valueColumns {
                    let cell = result.bytes(row, column)
                    guard try ColumnReader.write(cell, as: kinds[column], to: &values) else {
                        page.failure = failure(readers[column].conversionError(cell, table: label), result, row)
                        break rows
                    }
                }
                var key: [UInt8]?
                if keys != nil {
                    for column in keyIndexes {
                        // Already read once for the value: cannot fail now.
                        _ = try ColumnReader.write(result.bytes(row, column), as: kinds[column], to: &keys!)
                    }
                    key = keys!.finish()
                }
                page.messages.append(KafkaMessage(topic: topic, key: key, value: values.finish()))
            } catch {
                page.failure = .conversion(table: label, column: "*", reason: "row \(rowIdentity(result, row)): cannot encode row: \(error)")
                break rows
            }
            if positionsOrdered {
                lastRow = row
                continue
            }
            let position = offset(row)
            if let before, before.timestamp != position.timestamp {
                page.complete = before
                page.covered = row - start
            }
            before = position
            page.last = position
        }
        close(&page)
        pages.append(page)
        return pages
    }

    /// A conversion error with the row it happened in.
    private func failure(_ error: PostgresError, _ result: PGResult, _ row: Int) -> PostgresError {
        guard case .conversion(let table, let column, let reason) = error else { return error }
        return .conversion(table: table, column: column, reason: "row \(rowIdentity(result, row)): \(reason)")
    }

    /// Names a row for an error: its primary key, else its incrementing and
    /// timestamp position, as PostgreSQL prints them (never a converted value).
    func rowIdentity(_ result: PGResult, _ row: Int) -> String {
        if !keyIndexes.isEmpty {
            return keyIndexes.map { "\(readers[$0].name)=\(result.string(row, $0) ?? "NULL")" }.joined(separator: ", ")
        }
        let width = readers.count
        var parts: [String] = []
        if query.incrementing != nil, let value = result.string(row, width + 1) { parts.append("\(query.incrementing!)=\(value)") }
        if query.timestamp != nil, let value = result.string(row, width) { parts.append("\(query.timestamp!)=\(value)") }
        return parts.isEmpty ? "\(row + 1) of the page" : parts.joined(separator: ", ")
    }
}

