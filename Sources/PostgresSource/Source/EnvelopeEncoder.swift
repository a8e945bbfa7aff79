import PipelineCore

/// Encodes records that share one schema as `JsonConverter` does, but
/// serializes the schema only once: every record of a table carries the same
/// `{"schema":...}` envelope, and rebuilding it per row was most of the
/// source's CPU time.
///
/// The first record is encoded by the converter itself; the cached prefix is
/// used only if prefix + payload reproduces that output byte for byte, so the
/// result is always exactly the converter's.
struct EnvelopeEncoder {
    let converter: JsonConverter
    /// `{"schema":<schema>,"payload":` once verified; empty after a failed check (then every record is encoded in full).
    private var prefix: [UInt8]?

    init(_ converter: JsonConverter) {
        self.converter = converter
    }

    mutating func encode(_ data: SchemaAndValue) throws -> [UInt8] {
        guard converter.schemasEnabled else { return try converter.payloadBytes(data) }
        if let prefix, !prefix.isEmpty {
            var bytes = prefix
            bytes += try converter.payloadBytes(data)
            bytes.append(UInt8(ascii: "}"))
            return bytes
        }
        let full = try converter.encode(data) ?? []
        if prefix == nil { prefix = EnvelopeEncoder.verifiedPrefix(full, payload: try converter.payloadBytes(data)) }
        return full
    }

    /// The prefix of `full` before `payload`, if `full` is exactly `{"schema":...,"payload":<payload>}`.
    static func verifiedPrefix(_ full: [UInt8], payload: [UInt8]) -> [UInt8] {
        guard let json = try? JSON.parse(full), let schema = json["schema"] else { return [] }
        let candidate = Array("{\"schema\":".utf8) + schema.serialized() + Array(",\"payload\":".utf8)
        return candidate + payload + [UInt8(ascii: "}")] == full ? candidate : []
    }
}
