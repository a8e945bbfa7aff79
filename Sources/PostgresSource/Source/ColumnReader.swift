import PipelineCore

/// Turns one column's text into a Connect value, with the column's Connect schema.
///
/// Type mapping (as Kafka Connect's JDBC source for PostgreSQL):
/// - int2/int4/int8 → int16/int32/int64; oid → int64; float4/float8 → float/double; bool → boolean
/// - numeric(p,s) → Decimal with scale s (`connect.decimal.precision` = p), or integers / double
///   as `numeric.mapping` asks. A negative scale maps to scale 0 (the values are integers).
///   Unconstrained `numeric` (no typmod) has no fixed scale, which a Decimal schema needs:
///   it maps to **string** (exact text) under `none`/`precision_only`, and to double under `best_fit*`.
///   NaN and ±Infinity numerics are an error naming the column.
/// - date → Date; time → Time (ms, microseconds truncated); timestamp and timestamptz → Timestamp (ms,
///   floored; timestamp without zone read as UTC; PostgreSQL's whole range fits). ±infinity is an error
///   naming the column (``TableTask`` adds the row).
/// - text, varchar, char(n) (padded as stored), name, uuid, json, jsonb, citext, enums → string
/// - documented string mappings (PostgreSQL's text form): xml, inet, cidr, macaddr, macaddr8,
///   interval, money, timetz, bit, varbit, tsvector
/// - bytea → bytes
/// - anything else (arrays, composites, ranges, geometric types...) is an error naming the column and type.
struct ColumnReader: Sendable {
    enum Kind: Sendable, Hashable {
        case integer, float, boolean, text, decimal(scale: Int), date, time, timestamp, bytes
    }

    let name: String
    let kind: Kind
    let schema: Schema

    /// Well-known type OIDs (stable across PostgreSQL versions).
    enum OID {
        static let bool: UInt32 = 16, bytea: UInt32 = 17, char: UInt32 = 18, name: UInt32 = 19, int8: UInt32 = 20
        static let int2: UInt32 = 21, int4: UInt32 = 23, text: UInt32 = 25, oid: UInt32 = 26, json: UInt32 = 114
        static let xml: UInt32 = 142, cidr: UInt32 = 650, float4: UInt32 = 700, float8: UInt32 = 701, macaddr8: UInt32 = 774
        static let money: UInt32 = 790, macaddr: UInt32 = 829, inet: UInt32 = 869, bpchar: UInt32 = 1042, varchar: UInt32 = 1043
        static let date: UInt32 = 1082, time: UInt32 = 1083, timestamp: UInt32 = 1114, timestamptz: UInt32 = 1184
        static let interval: UInt32 = 1186, timetz: UInt32 = 1266, bit: UInt32 = 1560, varbit: UInt32 = 1562
        static let numeric: UInt32 = 1700, uuid: UInt32 = 2950, tsvector: UInt32 = 3614, jsonb: UInt32 = 3802
    }

    static let stringTypes: Set<UInt32> = [
        OID.text, OID.varchar, OID.bpchar, OID.name, OID.char, OID.uuid, OID.json, OID.jsonb, OID.xml, OID.inet, OID.cidr,
        OID.macaddr, OID.macaddr8, OID.interval, OID.money, OID.timetz, OID.bit, OID.varbit, OID.tsvector,
    ]

    /// The reader for `column`; throws for types with no mapping.
    init(_ column: ColumnInfo, optional: Bool, numericMapping: NumericMapping, table: String) throws(PostgresError) {
        name = column.name
        let (kind, schema) = try ColumnReader.mapping(column, numericMapping: numericMapping, table: table)
        self.kind = kind
        self.schema = optional ? schema.asOptional : schema
    }

    static func mapping(_ column: ColumnInfo, numericMapping: NumericMapping, table: String) throws(PostgresError) -> (Kind, Schema) {
        switch column.typeOID {
        case OID.int2: return (.integer, .int16)
        case OID.int4: return (.integer, .int32)
        case OID.int8, OID.oid: return (.integer, .int64)
        case OID.float4: return (.float, .float32)
        case OID.float8: return (.float, .float64)
        case OID.bool: return (.boolean, .boolean)
        case OID.numeric: return numeric(column.typeModifier, numericMapping)
        case OID.date: return (.date, LogicalType.date())
        case OID.time: return (.time, LogicalType.time())
        case OID.timestamp, OID.timestamptz: return (.timestamp, LogicalType.timestamp())
        case OID.bytea: return (.bytes, .bytes)
        case let oid where stringTypes.contains(oid): return (.text, .string)
        default:
            if column.typeType == "e" || column.typeName == "citext" { return (.text, .string) }
            throw PostgresError.conversion(
                table: table, column: column.name,
                reason: "type \(column.typeName) has no Connect mapping (supported: integers, numeric, floats, bool, text types, "
                    + "date/time/timestamp(tz), uuid, json(b), bytea, enums and a few text-form types); cast it in a query or view")
        }
    }

    /// numeric(p,s) per `numeric.mapping`; see the type comment above.
    static func numeric(_ modifier: Int32, _ mapping: NumericMapping) -> (Kind, Schema) {
        guard modifier >= 4 else {
            return mapping == .bestFit || mapping == .bestFitEagerDouble ? (.float, .float64) : (.text, .string)
        }
        let precision = Int((modifier - 4) >> 16 & 0xFFFF)
        var scale = Int((modifier - 4) & 0x7FF)
        if scale & 0x400 != 0 { scale -= 0x800 }  // PostgreSQL 15 allows negative scales (11-bit signed)
        scale = max(scale, 0)
        func integer() -> (Kind, Schema) {
            (.integer, precision > 9 ? .int64 : precision > 4 ? .int32 : precision > 2 ? .int16 : .int8)
        }
        switch mapping {
        case .none: break
        case .precisionOnly where scale == 0 && precision <= 18: return integer()
        case .bestFit where precision <= 18: return scale == 0 ? integer() : (.float, .float64)
        case .bestFitEagerDouble: if scale > 0 { return (.float, .float64) } else if precision <= 18 { return integer() }
        default: break
        }
        return (.decimal(scale: scale), LogicalType.decimal(scale: scale, precision: precision))
    }

    /// Writes one cell (`bytes` nil is NULL) as the next field of `writer`,
    /// straight from libpq's text. False when the text cannot be read as the
    /// column's type (``conversionError(_:table:)`` then says why); a NULL
    /// in a required field throws the converter's error.
    func write<W: RecordWriter>(_ bytes: PGText.Bytes?, to writer: inout W) throws(CodecError) -> Bool {
        try ColumnReader.write(bytes, as: kind, to: &writer)
    }

    /// ``write(_:to:)`` for a column of `kind`: a page's loop calls this with
    /// the kinds taken out once, as reading a reader out of its array copies
    /// (and retains) its name and schema for every cell.
    static func write<W: RecordWriter>(_ bytes: PGText.Bytes?, as kind: Kind, to writer: inout W) throws(CodecError) -> Bool {
        guard let bytes else {
            try writer.writeNull()
            return true
        }
        return try write(bytes, as: kind, to: &writer, terminated: true)
    }

    /// Writes the text of a value of `kind` as the next field of `writer`;
    /// false when the text is not of that kind. `terminated`: a NUL follows
    /// the text (libpq's values), so floats are read in place; pgoutput's
    /// copies (the CDC source) have none.
    static func write<W: RecordWriter>(_ bytes: PGText.Bytes, as kind: Kind, to writer: inout W, terminated: Bool) throws(CodecError) -> Bool {
        switch kind {
        case .integer:
            guard let v = PGText.int(bytes) else { return false }
            try writer.write(v)
        case .float:
            guard let v = terminated ? PGText.double(bytes) : PGText.unterminatedDouble(bytes) else { return false }
            try writer.write(v)
        case .boolean:
            guard let v = PGText.bool(bytes) else { return false }
            try writer.write(v)
        case .text:
            try writer.writeString(utf8: bytes)
        case .decimal(let scale):
            guard let d = DecimalValue(String(decoding: bytes, as: UTF8.self), scale: scale) else { return false }
            try writer.writeBytes(d.unscaled)
        case .date:
            guard let days = PGText.date(bytes), Int32(exactly: days) != nil else { return false }
            try writer.write(days)
        case .time:
            guard let micros = PGText.timeMicros(bytes) else { return false }
            try writer.write(Int64(Int32(micros / 1000)))
        case .timestamp:
            guard let ms = PGText.timestampMillis(bytes) else { return false }
            try writer.write(ms)
        case .bytes:
            guard let b = PGText.bytea(bytes) else { return false }
            try writer.writeBytes(b)
        }
        return true
    }

    /// Why `bytes` could not be written (built only when that happens).
    func conversionError(_ bytes: PGText.Bytes?, table: String) -> PostgresError {
        let text = bytes.map { String(decoding: $0.prefix(64), as: UTF8.self) } ?? "NULL"
        return .conversion(table: table, column: name, reason: "cannot read '\(text)' as \(schema.name ?? schema.type.rawValue)")
    }
}
