import Foundation

/// HTTP basic auth, as Connect's `BasicAuthSecurityRestExtension`: every
/// request must carry `Authorization: Basic …` for a user in the
/// credentials file, else 401 with `WWW-Authenticate`. The file has one
/// `user: password` (or `user=password`) per line, `#` comments, as Jetty's
/// property file that Connect's JAAS setup names. Passwords are never logged.
public struct BasicAuth: Sendable {
    private let credentials: [String: String]

    public init(credentials: [String: String]) {
        self.credentials = credentials
    }

    /// Reads the credentials file; a line without a separator is an error naming its number.
    public static func load(path: String) throws -> BasicAuth {
        let text = String(decoding: try ConnectorFiles.read(path), as: UTF8.self)
        var credentials: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let separator = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else {
                throw FileError(path: path, reason: "line \(number + 1): expected user: password")
            }
            let user = line[..<separator].trimmingCharacters(in: .whitespaces)
            // Jetty's format may list roles after the password: `user: password, role`.
            let secret = line[line.index(after: separator)...].split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            credentials[user] = secret
        }
        guard !credentials.isEmpty else { throw FileError(path: path, reason: "no credentials in the file") }
        return BasicAuth(credentials: credentials)
    }

    /// Whether the `Authorization` header value names a known user and password.
    public func allows(_ header: String?) -> Bool {
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return false }
        guard let expected = credentials[String(text[..<colon])] else { return false }
        return Self.constantTimeEqual(Array(expected.utf8), Array(text[text.index(after: colon)...].utf8))
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the password.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
