import Benchmark
import PipelineCore

/// Per-record costs of the codec, old (through ``Value`` and ``JSON`` trees)
/// against new (compiled per schema), on the seed's USERS rows.
///
/// Each benchmark has one name and two bodies: built with `BASELINE` (see
/// Package.swift) it runs the old API, as a checkout before the compiled
/// codec could; otherwise the compiled codec. Compare the two runs.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput], scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 1_000)
    let envelopes = (0..<1000).map { try! JsonConverter().encode(Users.value(Int64($0)))! }

    // Envelope encode per row: what the source does with each Postgres row.
    Benchmark("encode row") { benchmark in
        #if BASELINE
        // The old source's EnvelopeEncoder: the schema part once, each row's payload from a Value.
        let converter = JsonConverter()
        let full = try converter.encode(Users.value(0))!
        let payload = try converter.payloadBytes(Users.value(0))
        let schemaPart = Array(full[..<(full.count - payload.count - 1)])
        for i in benchmark.scaledIterations {
            var bytes = schemaPart
            bytes += try converter.payloadBytes(Users.value(Int64(i)))
            bytes.append(UInt8(ascii: "}"))
            blackHole(bytes)
        }
        #else
        var writer = EnvelopeWriter(SchemaInterner.shared.intern(Users.schema), schemasEnabled: true)
        for i in benchmark.scaledIterations {
            try Users.write(Int64(i), to: &writer)
            blackHole(writer.finish())
        }
        #endif
    }

    // Decode per row: a sink's converter on the source's envelopes.
    Benchmark("decode row") { benchmark in
        let converter = JsonConverter()
        for i in benchmark.scaledIterations { blackHole(try converter.decode(envelopes[i % envelopes.count])) }
    }

    // MySQL row extraction: the payload into column values.
    Benchmark("mysql row") { benchmark in
        let converter = JsonConverter()
        for i in benchmark.scaledIterations {
            var columns = Columns()
            #if BASELINE
            let value = try converter.decode(envelopes[i % envelopes.count])!
            guard case .struct(let fields) = value.value else { fatalError() }
            for (index, field) in value.schema!.fields.enumerated() { columns.add(index, fields.first { $0.name == field.name }!.value) }
            #else
            blackHole(converter.read(envelopes[i % envelopes.count], into: &columns))
            #endif
            blackHole(columns)
        }
    }

    // The S3 sink's check of a payload it then writes as received: the same
    // call before and after PayloadVisitor.keepsStrings (a String per field).
    Benchmark("validate payload") { benchmark in
        let converter = JsonConverter()
        for i in benchmark.scaledIterations {
            var validation = PayloadValidation()
            blackHole(converter.read(envelopes[i % envelopes.count], into: &validation))
        }
    }

    // S3 JsonFormat: one record's line in the object.
    Benchmark("s3 record") { benchmark in
        let converter = JsonConverter()
        for i in benchmark.scaledIterations {
            let bytes = envelopes[i % envelopes.count]
            #if BASELINE
            let value = try converter.decode(bytes)!
            blackHole(try JsonConverter(schemasEnabled: false).payloadBytes(value) + [10])
            #else
            var validation = PayloadValidation()
            let location = converter.read(bytes, into: &validation)!
            var line = Array(bytes[location.range])
            line.append(10)
            blackHole(line)
            #endif
        }
    }
}

/// The seed's USERS table (DataGen's layout), as the source maps it.
enum Users {
    static let textColumns = ["first_name", "last_name", "email", "street_address", "city", "state", "zip", "country", "phone", "job", "company"]
    static let schema = Schema.struct(
        "USERS",
        [Field("index", .int64)] + textColumns.map { Field($0, .string) }
            + [Field("birthdate", LogicalType.date()), Field("created_at", LogicalType.timestamp()), Field("updated_at", LogicalType.timestamp())])

    static func texts(_ i: Int64) -> [String] {
        ["Ada\(i % 97)", "Lovelace", "ada.lovelace\(i)@example.com", "\(i % 9999) Analytical Engine Street", "London", "Greater London",
         "\(10000 + i % 89999)", "United Kingdom", "+44-20-\(1000 + i % 8999)-\(i % 9999)", "Mathematician", "Babbage & Co"]
    }

    static func value(_ i: Int64) -> SchemaAndValue {
        let fields = [NamedValue("index", .int(i))] + zip(textColumns, texts(i)).map { NamedValue($0, .string($1)) }
            + [NamedValue("birthdate", .date(Int32(i % 20000))), NamedValue("created_at", .timestamp(1_700_000_000_000 + i)),
               NamedValue("updated_at", .timestamp(1_700_000_000_500 + i))]
        return SchemaAndValue(schema: schema, value: .struct(fields))
    }

    #if !BASELINE
    /// As the source writes a row: each cell parsed from text into the writer.
    static func write(_ i: Int64, to writer: inout EnvelopeWriter) throws {
        writer.write(i)
        for var text in texts(i) { text.withUTF8 { writer.writeString(utf8: $0) } }
        writer.write(i % 20000)
        writer.write(1_700_000_000_000 + i)
        writer.write(1_700_000_000_500 + i)
    }
    #endif
}

/// Column values as the MySQL sink binds them (its SQLValue is internal).
struct Columns {
    enum Bound { case null, int(Int64), double(Double), text(String), bytes([UInt8]), datetime(Int64), date(Int32), time(Int32), decimal(String) }
    var values: [Bound] = []

    mutating func add(_ field: Int, _ value: Value) {
        switch value {
        case .null: values.append(.null)
        case .int(let v): values.append(.int(v))
        case .bool(let v): values.append(.int(v ? 1 : 0))
        case .double(let v): values.append(.double(v))
        case .string(let v): values.append(.text(v))
        case .bytes(let v): values.append(.bytes(v))
        case .timestamp(let v): values.append(.datetime(v))
        case .date(let v): values.append(.date(v))
        case .time(let v): values.append(.time(v))
        case .decimal(let v): values.append(.decimal(v.description))
        default: fatalError("nested")
        }
    }

}

#if !BASELINE
extension Columns: PayloadVisitor {
    mutating func null(_ field: Int) { values.append(.null) }
    mutating func int(_ field: Int, _ value: Int64) { values.append(.int(value)) }
    mutating func double(_ field: Int, _ value: Double) { values.append(.double(value)) }
    mutating func bool(_ field: Int, _ value: Bool) { values.append(.int(value ? 1 : 0)) }
    mutating func string(_ field: Int, _ value: String) { values.append(.text(value)) }
    mutating func bytes(_ field: Int, _ value: [UInt8]) { values.append(.bytes(value)) }
    mutating func timestamp(_ field: Int, _ milliseconds: Int64) { values.append(.datetime(milliseconds)) }
    mutating func date(_ field: Int, _ days: Int32) { values.append(.date(days)) }
    mutating func time(_ field: Int, _ milliseconds: Int32) { values.append(.time(milliseconds)) }
    mutating func decimal(_ field: Int, _ value: DecimalValue) { values.append(.decimal(value.description)) }
}
#endif
