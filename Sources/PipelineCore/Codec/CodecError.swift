/// A value could not be converted to or from Connect's JSON format or Avro.
public struct CodecError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Where in the document, e.g. `payload.address.zip`.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}
