/// The `{version}` of a path: a number from 1 to 2^31-1, or `latest` (also `-1`, as Confluent allows).
public enum VersionSelector: Sendable, Equatable {
    case number(Int)
    case latest

    /// Parses a path segment; anything else is Confluent's 42202.
    public init(parsing text: String) throws(RegistryError) {
        if text.lowercased() == "latest" || text == "-1" {
            self = .latest
            return
        }
        guard let number = Int(text), number >= 1, number <= Int(Int32.max) else { throw .invalidVersion(text) }
        self = .number(number)
    }
}
