/// Writes records of one struct schema field by field, straight from a
/// source's cells into message bytes: Connect JSON envelopes
/// (``EnvelopeWriter``) or Avro in Confluent's wire format (``AvroRecordWriter``).
///
/// Call one `write…` per field, in the schema's field order, then
/// ``finish()``; the writer is then ready for the next record.
public protocol RecordWriter {
    /// A null; an error for a required field.
    mutating func writeNull() throws(CodecError)
    /// An integer (also Timestamp, Date and Time).
    mutating func write(_ value: Int64) throws(CodecError)
    mutating func write(_ value: Double) throws(CodecError)
    mutating func write(_ value: Bool) throws(CodecError)
    /// A string from text in UTF-8.
    mutating func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(CodecError)
    /// Bytes, or a Decimal's unscaled bytes (already at the schema's scale).
    mutating func writeBytes(_ bytes: [UInt8]) throws(CodecError)
    /// The record's bytes; every field must have been written.
    mutating func finish() -> [UInt8]
}

extension EnvelopeWriter: RecordWriter {
    /// Bytes as base64 text, as Connect's JsonConverter writes bytes and Decimals.
    public mutating func writeBytes(_ bytes: [UInt8]) { writeBase64(bytes) }
}
