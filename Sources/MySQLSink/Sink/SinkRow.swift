import PipelineCore

/// One record turned into what the database needs: the table, the columns
/// (primary key first) and the bound values.
struct SinkRow: Sendable {
    enum Operation: Sendable {
        /// Insert, upsert or update (per `insert.mode`) all `columns`.
        case write
        /// Delete the row whose key columns equal `values` (a tombstone).
        case delete
    }

    var topicPartition: TopicPartition
    var offset: Int64
    var table: TableRef
    var operation: Operation
    /// For a write every column, keys first; for a delete only the key columns.
    var columns: [ColumnSpec]
    var keyCount: Int
    /// One value per column.
    var values: [SQLValue]

    var position: String { "\(topicPartition)@\(offset)" }
}

/// A record the sink cannot write, and why.
struct RecordFailure: Error, Sendable, CustomStringConvertible {
    var topicPartition: TopicPartition
    var offset: Int64
    /// What went wrong: a ``SchemaError``, ``MySQLError`` or ``PipelineError``.
    var error: any Error
    /// Connect's error stage: `KEY_CONVERTER`, `VALUE_CONVERTER` or `TASK_PUT`.
    var stage: String

    var position: String { "\(topicPartition)@\(offset)" }
    var description: String { "\(error)" }
}

/// Connect JDBC sink's "fields metadata": which columns a record becomes
/// under `pk.mode`, `pk.fields` and `fields.whitelist`.
struct RowExtractor: Sendable {
    let config: MySQLSinkConfig

    /// Default column names of pk.mode=kafka.
    static let kafkaKeyNames = ["__connect_topic", "__connect_partition", "__connect_offset"]

    /// The row for `record`, written to `table` (``table(for:)`` of its topic).
    func row(for record: Record, table: Result<TableRef, SchemaError>) throws(RecordFailure) -> SinkRow {
        do {
            return try extract(record, table: table.get())
        } catch {
            throw RecordFailure(topicPartition: record.topicPartition, offset: record.offset, error: error, stage: "TASK_PUT")
        }
    }

    /// The table records of `topic` go to, per `table.name.format`.
    func table(for topic: String) -> Result<TableRef, SchemaError> {
        Result { () throws(SchemaError) in try TableRef(parsing: config.tableNameFormat.replacingTopic(with: topic)) }
    }

    private func extract(_ record: Record, table: TableRef) throws(SchemaError) -> SinkRow {
        var keys: [(ColumnSpec, Value)]
        guard let value = record.value else {
            guard config.deleteEnabled else {
                throw SchemaError(table: table.sql, column: nil, reason: "the record is a tombstone (null value) but delete.enabled=false; only records with a Struct value and schema can be written")
            }
            keys = try recordKeyColumns(record, table: table)
            return try makeRow(record, table: table, operation: .delete, columns: keys)
        }
        guard let schema = value.schema, schema.type == .struct, case .struct = value.value else {
            throw SchemaError(table: table.sql, column: nil, reason: "the value must be a Struct with a schema (JsonConverter with schemas.enable=true), found \(value.schema.map { $0.type.rawValue } ?? "no schema")")
        }
        switch config.pkMode {
        case .none:
            keys = []
        case .kafka:
            let names = config.pkFields.isEmpty ? Self.kafkaKeyNames : config.pkFields
            keys = [
                (ColumnSpec(name: names[0], schema: .string, isPrimaryKey: true), .string(record.topic)),
                (ColumnSpec(name: names[1], schema: .int32, isPrimaryKey: true), .int(Int64(record.partition))),
                (ColumnSpec(name: names[2], schema: .int64, isPrimaryKey: true), .int(record.offset)),
            ]
        case .recordKey:
            keys = try recordKeyColumns(record, table: table)
        case .recordValue:
            let names = config.pkFields.isEmpty ? schema.fields.map(\.name) : config.pkFields
            keys = try names.map { name throws(SchemaError) in
                guard let field = schema.field(named: name) else {
                    throw SchemaError(table: table.sql, column: name, reason: "pk.fields names '\(name)', which the value schema does not have")
                }
                return (ColumnSpec(name: name, schema: field.schema, isPrimaryKey: true), value.value[field: name] ?? .null)
            }
        }
        let keyNames = Set(keys.map(\.0.name))
        let whitelist = Set(config.fieldsWhitelist)
        var columns = keys
        for field in schema.fields where !keyNames.contains(field.name) && (whitelist.isEmpty || whitelist.contains(field.name)) {
            columns.append((ColumnSpec(name: field.name, schema: field.schema), value.value[field: field.name] ?? .null))
        }
        return try makeRow(record, table: table, operation: .write, columns: columns, keyCount: keys.count)
    }

    /// Key columns from the record key (pk.mode=record_key): a primitive key
    /// is one column named by pk.fields; a struct key gives its fields (or the
    /// ones pk.fields names).
    private func recordKeyColumns(_ record: Record, table: TableRef) throws(SchemaError) -> [(ColumnSpec, Value)] {
        guard let key = record.key, let schema = key.schema else {
            throw SchemaError(table: table.sql, column: nil, reason: "pk.mode=record_key but the record has no key schema (key.converter must be JsonConverter with schemas.enable=true, or StringConverter)")
        }
        switch schema.type {
        case .struct:
            let names = config.pkFields.isEmpty ? schema.fields.map(\.name) : config.pkFields
            return try names.map { name throws(SchemaError) in
                guard let field = schema.field(named: name) else {
                    throw SchemaError(table: table.sql, column: name, reason: "pk.fields names '\(name)', which the key schema does not have")
                }
                return (ColumnSpec(name: name, schema: field.schema, isPrimaryKey: true), key.value[field: name] ?? .null)
            }
        case .array, .map:
            throw SchemaError(table: table.sql, column: nil, reason: "the key must be a primitive or a Struct, found \(schema.type.rawValue)")
        default:
            guard config.pkFields.count == 1 else {
                throw SchemaError(table: table.sql, column: nil, reason: "the key is a primitive (\(schema.type.rawValue)), so pk.fields must name exactly one column; it names \(config.pkFields.count)")
            }
            return [(ColumnSpec(name: config.pkFields[0], schema: schema, isPrimaryKey: true), key.value)]
        }
    }

    private func makeRow(
        _ record: Record, table: TableRef, operation: SinkRow.Operation, columns: [(ColumnSpec, Value)], keyCount: Int? = nil
    ) throws(SchemaError) -> SinkRow {
        var values: [SQLValue] = []
        values.reserveCapacity(columns.count)
        for (column, value) in columns {
            // Types are checked once per table and schema, by TableCatalog.
            do {
                values.append(try MySQLTypeMapping.sqlValue(value))
            } catch {
                throw SchemaError(table: table.sql, column: column.name, reason: error.reason)
            }
        }
        return SinkRow(
            topicPartition: record.topicPartition, offset: record.offset, table: table, operation: operation,
            columns: columns.map(\.0), keyCount: keyCount ?? columns.count, values: values)
    }
}

extension String {
    /// `table.name.format` with `${topic}` replaced.
    func replacingTopic(with topic: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: "${topic}") {
            result += rest[..<range.lowerBound] + topic
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
