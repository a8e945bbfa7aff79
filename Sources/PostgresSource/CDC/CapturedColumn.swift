import PipelineCore

/// One column of a captured table: its Connect schema in change events and
/// how its pgoutput text becomes a ``Value``.
///
/// The mapping is the JDBC source's (``ColumnReader``), with
/// `decimal.handling.mode` for numeric, and with types that mapping rejects
/// (arrays, enums, ranges, composites, domains over them: pgoutput gives
/// only a type OID) carried as their PostgreSQL text form in a string,
/// e.g. `{1,2,3}` for an int4[].
struct CapturedColumn: Sendable, Hashable {
    let name: String
    let kind: ColumnReader.Kind
    /// Optional: pgoutput does not say which columns are NOT NULL.
    let schema: Schema

    init(_ column: RelationColumn, decimalMode: PostgresCDCConfig.DecimalMode, table: String) {
        name = column.name
        let info = ColumnInfo(name: column.name, typeOID: column.typeOID, typeModifier: column.typeModifier, typeName: "", typeType: "", notNull: nil, isSerial: false)
        var mapping: (ColumnReader.Kind, Schema)
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

    /// The value of pgoutput's text `bytes`; nil when the text is not of the column's type.
    func value(_ bytes: [UInt8]) -> Value? {
        bytes.withUnsafeBufferPointer { (text: PGText.Bytes) -> Value? in
            switch kind {
            case .integer: return PGText.int(text).map(Value.int)
            case .float: return CapturedColumn.double(text).map(Value.double)
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

    /// A float: ``PGText/double(_:)`` reads in place and needs a NUL after
    /// the text, which libpq's results have and pgoutput's copies do not.
    static func double(_ text: PGText.Bytes) -> Double? {
        Double(String(decoding: text, as: UTF8.self)) ?? {
            switch String(decoding: text, as: UTF8.self) {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: return nil
            }
        }()
    }
}
