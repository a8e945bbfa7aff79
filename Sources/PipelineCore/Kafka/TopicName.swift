/// Kafka's rules for topic names, which the embedded broker does not enforce:
/// a name it takes may be refused by a real cluster.
public enum TopicName {
    /// Longest name Kafka accepts.
    public static let maxLength = 249

    /// Why a real Kafka cluster would refuse `name`, or nil when it is legal:
    /// empty, `.` or `..`, longer than 249 characters, or a character outside
    /// `[a-zA-Z0-9._-]`.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "a topic name cannot be empty" }
        if name == "." || name == ".." { return "'\(name)' is not a legal topic name" }
        if name.utf8.count > maxLength { return "topic name is \(name.utf8.count) characters long; Kafka allows \(maxLength)" }
        if let bad = name.unicodeScalars.first(where: { !isLegal($0) }) {
            // Escaped: the name may hold control characters, which must not reach a log raw.
            let shown = name.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
            return "topic name '\(shown)' contains '\(bad.escaped(asASCII: true))'; Kafka allows only letters, digits, '.', '_' and '-'"
        }
        return nil
    }

    private static func isLegal(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
        default: return false
        }
    }
}
