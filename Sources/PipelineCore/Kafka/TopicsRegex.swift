/// Connect's `topics.regex`, which must match a topic's whole name.
public enum TopicsRegex {
    /// `regex` anchored at both ends, in a form both librdkafka's
    /// subscription (a `^`-prefixed POSIX regex, matched anywhere in the
    /// name) and `NSRegularExpression` read the same way.
    public static func anchored(_ regex: String) -> String {
        var body = Substring(regex)
        if body.hasPrefix("^") { body = body.dropFirst() }
        if body.hasSuffix("$") { body = body.dropLast() }
        return "^(\(body))$"
    }
}
