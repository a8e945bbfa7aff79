import PipelineCore

/// One column of a captured table: its Connect schema in change events and
/// how its pgoutput text becomes a ``Value``.
///
/// The mapping is the JDBC source's (``ColumnReader``), with
/// `decimal.handling.mode` for numeric. One-dimensional arrays of integers,
/// floats, booleans, text types, uuid, dates and timestamps are Connect
/// arrays of those (``PGArrayText``), as Debezium writes them. Types the
/// mapping rejects (other arrays, enums, ranges, composites, domains over
/// them: pgoutput gives only a type OID) are carried as their PostgreSQL
/// text form in a string, e.g. `{happy,sad}` for an array of an enum.
struct CapturedColumn: Sendable, Hashable {
    let name: String
    let kind: ColumnReader.Kind
    /// For an array column: the kind of its elements (`schema` is an array of them).
    let elementKind: ColumnReader.Kind?
    /// Optional: pgoutput does not say which columns are NOT NULL.
    let schema: Schema

    init(_ column: RelationColumn, decimalMode: PostgresCDCConfig.DecimalMode, table: String) {
        name = column.name
        let info = ColumnInfo(name: column.name, typeOID: column.typeOID, typeModifier: column.typeModifier, typeName: "", typeType: "", notNull: nil, isSerial: false)
        var mapping: (ColumnReader.Kind, Schema)
        if let elementType = PGArrayText.elementTypes[column.typeOID],
            let element = try? ColumnReader.mapping(
                ColumnInfo(name: column.name, typeOID: elementType, typeModifier: -1, typeName: "", typeType: "", notNull: nil, isSerial: false),
                numericMapping: .none, table: table)
        {
            elementKind = element.0
            kind = .text
            schema = Schema(type: .array, optional: true, valueSchema: element.1.asOptional)
            return
        }
        elementKind = nil
        if column.typeOID == ColumnReader.OID.numeric {
            switch decimalMode {
            case .precise: mapping = ColumnReader.numeric(column.typeModifier, .none)
            case .double: mapping = (.float, .float64)
            case .string: mapping = (.text, .string)
            }
        } else {
            mapping = (try? ColumnReader.mapping(info, numericMapping: .none, table: table)) ?? (.text, .string)
        }
        kind = mapping.0
        schema = mapping.1.asOptional
    }

    /// The value of pgoutput's text `bytes`; nil when the text is not of the
    /// column's type (for an array column: not a one-dimensional array of it).
    func value(_ bytes: ArraySlice<UInt8>) -> Value? {
        guard let elementKind else { return Self.value(bytes, kind) }
        guard let elements = PGArrayText.elements(bytes) else { return nil }
        var values: [Value] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            guard let element else {
                values.append(.null)
                continue
            }
            guard let value = Self.value(element[...], elementKind) else { return nil }
            values.append(value)
        }
        return .array(values)
    }

    /// Writes pgoutput's text `bytes` as the next field of `writer`, straight
    /// into its bytes; false when the text is not of the column's type (for
    /// an array column: not a one-dimensional array of it).
    func write(_ bytes: ArraySlice<UInt8>, to writer: inout EnvelopeWriter) throws -> Bool {
        guard elementKind == nil else {
            // Arrays are rare: their elements go through a Value and the converter.
            guard let array = value(bytes) else { return false }
            writer.writeJSON(try CapturedColumn.payloads.payloadBytes(SchemaAndValue(schema: schema, value: array)))
            return true
        }
        return try Self.write(bytes, as: kind, to: &writer)
    }

    /// Writes the text `bytes` of a column that is not an array as a `kind` value; false when it is not one.
    static func write(_ bytes: ArraySlice<UInt8>, as kind: ColumnReader.Kind, to writer: inout EnvelopeWriter) throws -> Bool {
        try bytes.withUnsafeBufferPointer { text in try ColumnReader.write(text, as: kind, to: &writer, terminated: false) }
    }

    private static let payloads = JsonConverter(schemasEnabled: false)

    static func value(_ bytes: ArraySlice<UInt8>, _ kind: ColumnReader.Kind) -> Value? {
        bytes.withUnsafeBufferPointer { (text: PGText.Bytes) -> Value? in
            switch kind {
            case .integer: return PGText.int(text).map(Value.int)
            case .float: return PGText.unterminatedDouble(text).map(Value.double)
            case .boolean: return PGText.bool(text).map(Value.bool)
            case .text: return .string(String(decoding: text, as: UTF8.self))
            case .decimal(let scale): return DecimalValue(String(decoding: text, as: UTF8.self), scale: scale).map(Value.decimal)
            case .date: return PGText.date(text).flatMap { Int32(exactly: $0) }.map(Value.date)
            case .time: return PGText.timeMicros(text).map { Value.time(Int32($0 / 1000)) }
            case .timestamp: return PGText.timestampMillis(text).map(Value.timestamp)
            case .bytes: return PGText.bytea(text).map(Value.bytes)
            }
        }
    }
}
