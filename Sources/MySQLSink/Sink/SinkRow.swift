import PipelineCore

/// One record turned into what the database needs: the table, the columns
/// (primary key first) and the bound values.
struct SinkRow: Sendable {
    enum Operation: Sendable {
        /// Insert, upsert or update (per `insert.mode`) all `columns`.
        case write
        /// Delete the row whose key columns equal `values` (a tombstone).
        case delete
        /// Delete every row of the table (a Debezium truncate event); no columns.
        case truncate
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
    /// The ``RowPlan`` id: rows of equal shape share table, operation and columns.
    var shape: Int

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
///
/// The columns depend only on the topic and the key and value schemas, so
/// they are worked out once per such triple (a ``RowPlan``); each record
/// then only fills in its values, read by field index.
struct RowExtractor: Sendable {
    let config: MySQLSinkConfig

    /// Default column names of pk.mode=kafka.
    static let kafkaKeyNames = ["__connect_topic", "__connect_partition", "__connect_offset"]

    /// The table records of `topic` go to, per `table.name.format`.
    func table(for topic: String) -> Result<TableRef, SchemaError> {
        Result { () throws(SchemaError) in try TableRef(parsing: config.tableNameFormat.replacingTopic(with: topic)) }
    }

    /// The columns of records with these schemas (nil: no schema, or a null
    /// key), written to `table`; a tombstone when `isDelete`.
    func plan(table: TableRef, key: Schema?, value: Schema?, isDelete: Bool, id: Int) throws(SchemaError) -> RowPlan {
        var keys: [(ColumnSpec, RowPlan.Source)]
        if isDelete {
            guard config.deleteEnabled else {
                throw SchemaError(table: table.sql, column: nil, reason: "the record is a tombstone (null value) but delete.enabled=false; only records with a Struct value and schema can be written")
            }
            keys = try recordKeyColumns(key, table: table)
            return RowPlan(id: id, table: table, operation: .delete, columns: keys.map(\.0), sources: keys.map(\.1), keyCount: keys.count)
        }
        guard let schema = value, schema.type == .struct else {
            throw SchemaError(table: table.sql, column: nil, reason: "the value must be a Struct with a schema (JsonConverter with schemas.enable=true), found \(value.map { $0.type.rawValue } ?? "no schema")")
        }
        switch config.pkMode {
        case .none:
            keys = []
        case .kafka:
            let names = config.pkFields.isEmpty ? Self.kafkaKeyNames : config.pkFields
            keys = [
                (ColumnSpec(name: names[0], schema: .string, isPrimaryKey: true), .topic),
                (ColumnSpec(name: names[1], schema: .int32, isPrimaryKey: true), .partition),
                (ColumnSpec(name: names[2], schema: .int64, isPrimaryKey: true), .offset),
            ]
        case .recordKey:
            keys = try recordKeyColumns(key, table: table)
        case .recordValue:
            let names = config.pkFields.isEmpty ? schema.fields.map(\.name) : config.pkFields
            keys = try names.map { name throws(SchemaError) in
                guard let index = schema.fields.firstIndex(where: { $0.name == name }) else {
                    throw SchemaError(table: table.sql, column: name, reason: "pk.fields names '\(name)', which the value schema does not have")
                }
                return (ColumnSpec(name: name, schema: schema.fields[index].schema, isPrimaryKey: true), .value(index))
            }
        }
        let keyNames = Set(keys.map(\.0.name))
        let whitelist = Set(config.fieldsWhitelist)
        var columns = keys
        for field in schema.fields where !keyNames.contains(field.name) && (whitelist.isEmpty || whitelist.contains(field.name)) {
            let index = schema.fields.firstIndex { $0.name == field.name }!
            columns.append((ColumnSpec(name: field.name, schema: field.schema), .value(index)))
        }
        return RowPlan(id: id, table: table, operation: .write, columns: columns.map(\.0), sources: columns.map(\.1), keyCount: keys.count)
    }

    /// Key columns from the record key (pk.mode=record_key): a primitive key
    /// is one column named by pk.fields; a struct key gives its fields (or the
    /// ones pk.fields names).
    private func recordKeyColumns(_ key: Schema?, table: TableRef) throws(SchemaError) -> [(ColumnSpec, RowPlan.Source)] {
        guard let schema = key else {
            throw SchemaError(table: table.sql, column: nil, reason: "pk.mode=record_key but the record has no key schema (key.converter must be JsonConverter with schemas.enable=true, or StringConverter)")
        }
        switch schema.type {
        case .struct:
            let names = config.pkFields.isEmpty ? schema.fields.map(\.name) : config.pkFields
            return try names.map { name throws(SchemaError) in
                guard let index = schema.fields.firstIndex(where: { $0.name == name }) else {
                    throw SchemaError(table: table.sql, column: name, reason: "pk.fields names '\(name)', which the key schema does not have")
                }
                return (ColumnSpec(name: name, schema: schema.fields[index].schema, isPrimaryKey: true), .key(index))
            }
        case .array, .map:
            throw SchemaError(table: table.sql, column: nil, reason: "the key must be a primitive or a Struct, found \(schema.type.rawValue)")
        default:
            guard config.pkFields.count == 1 else {
                throw SchemaError(table: table.sql, column: nil, reason: "the key is a primitive (\(schema.type.rawValue)), so pk.fields must name exactly one column; it names \(config.pkFields.count)")
            }
            return [(ColumnSpec(name: config.pkFields[0], schema: schema, isPrimaryKey: true), .key(0))]
        }
    }
}

/// The columns records of one topic and key and value schemas become, and
/// where each column's value comes from.
struct RowPlan: Sendable {
    enum Source: Sendable {
        /// A field of the key (0 for a primitive key).
        case key(Int)
        /// A field of the value.
        case value(Int)
        case topic, partition, offset
    }

    /// Unique per plan: rows of one plan share table and columns.
    let id: Int
    let table: TableRef
    let operation: SinkRow.Operation
    let columns: [ColumnSpec]
    let sources: [Source]
    let keyCount: Int

    /// The row of a record whose key and value fields are `key` and `value`.
    /// A value MySQL cannot store is an error naming its column.
    func row(_ topicPartition: TopicPartition, offset: Int64, key: SQLFields, value: SQLFields) throws(SchemaError) -> SinkRow {
        var values: [SQLValue] = []
        values.reserveCapacity(sources.count)
        for (column, source) in zip(columns, sources) {
            let field: Result<SQLValue, SchemaError>
            switch source {
            case .key(let i): field = key.values[i]
            case .value(let i): field = value.values[i]
            case .topic: field = .success(.text(topicPartition.topic))
            case .partition: field = .success(.int(Int64(topicPartition.partition)))
            case .offset: field = .success(.int(offset))
            }
            switch field {
            case .success(let v): values.append(v)
            case .failure(let error): throw SchemaError(table: table.sql, column: column.name, reason: error.reason)
            }
        }
        return SinkRow(
            topicPartition: topicPartition, offset: offset, table: table, operation: operation, columns: columns,
            keyCount: keyCount, values: values, shape: id)
    }
}

/// The fields of a key or value as MySQL values, in field order (one for a
/// primitive), straight from the payload bytes (``PayloadVisitor``) or from
/// a decoded ``Value``. A value MySQL cannot store is kept as its error, so
/// only columns actually written report it.
struct SQLFields: PayloadVisitor {
    var values: [Result<SQLValue, SchemaError>] = []

    init() {}

    /// The fields of a decoded value typed by `schema`.
    init(_ value: Value, schema: Schema) {
        guard schema.type == .struct else {
            add(value)
            return
        }
        values.reserveCapacity(schema.fields.count)
        for field in schema.fields { add(value[field: field.name] ?? .null) }
    }

    private mutating func add(_ value: Value) {
        values.append(Result { () throws(SchemaError) in try MySQLTypeMapping.sqlValue(value) })
    }

    mutating func null(_ field: Int) { add(.null) }
    mutating func int(_ field: Int, _ value: Int64) { add(.int(value)) }
    mutating func double(_ field: Int, _ value: Double) { add(.double(value)) }
    mutating func bool(_ field: Int, _ value: Bool) { add(.bool(value)) }
    mutating func string(_ field: Int, _ value: String) { add(.string(value)) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) { add(.bytes(value)) }
    mutating func timestamp(_ field: Int, _ milliseconds: Int64) { add(.timestamp(milliseconds)) }
    mutating func date(_ field: Int, _ days: Int32) { add(.date(days)) }
    mutating func time(_ field: Int, _ milliseconds: Int32) { add(.time(milliseconds)) }
    mutating func decimal(_ field: Int, _ value: DecimalValue) { add(.decimal(value)) }
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
