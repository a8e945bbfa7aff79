/// Placeholder until the Avro schema model lands: Avro pairs are compared by text.
enum AvroCompatibility {
    static func problems(reader: String, writer: String) -> [String] { [] }
}
