/// Hides secrets in connector configs before a page shows them.
enum SecretMasking {
    static let mask = "********"

    /// Keys whose whole value is a secret.
    static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["password", "secret", "token", "credential", "jaas", "api.key", "access.key", "private.key"]
            .contains { lower.contains($0) }
    }

    /// `value` for display: masked for secret keys; for any other, the
    /// password of a `scheme://user:password@host` URL and `password=` parameters.
    /// A `${env:…}` or `${file:…}` placeholder names where a secret lives, not the secret: shown.
    static func display(key: String, value: String) -> String {
        if value.hasPrefix("${") && value.hasSuffix("}") { return value }
        if isSecret(key) { return value.isEmpty ? "" : mask }
        return maskingURLPasswords(value)
    }

    static func maskingURLPasswords(_ value: String) -> String {
        var text = value
        // user:password@ after a scheme.
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = text[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: mask)
            }
        }
        // password=… in a query or a JDBC property list, up to & or ; or the end.
        for marker in ["password=", "Password=", "PASSWORD="] {
            var searchFrom = text.startIndex
            while let found = text.range(of: marker, range: searchFrom..<text.endIndex) {
                let end = text[found.upperBound...].firstIndex { $0 == "&" || $0 == ";" } ?? text.endIndex
                text.replaceSubrange(found.upperBound..<end, with: mask)
                searchFrom = text.index(found.upperBound, offsetBy: mask.count)
            }
        }
        return text
    }
}
