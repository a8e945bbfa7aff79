import Foundation

/// A secret value (a password or key). Its description never shows the value.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself; read it only to hand it to a client library.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { value.isEmpty ? "" : "[hidden]" }
    public var debugDescription: String { description }
    /// `dump()` and debuggers see no children, so the value cannot leak through reflection.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Validated Connect-style connector properties with typed accessors.
///
/// Built from flat string properties: `${env:VAR}` references are resolved,
/// every key must be known to the connector's ``ConfigDefinition`` (an unknown
/// key is an error that names the closest known key), and printing the config
/// hides every secret.
public struct ConnectorConfig: Sendable, CustomStringConvertible {
    public let properties: [String: String]
    public let definition: ConfigDefinition
    /// Connect keys that were given but have no effect (``IgnoredKey``), sorted;
    /// they are not in ``properties``. Connectors log each once (``ignoredKeyNotices``).
    public let ignoredKeys: [String]

    /// Validates `properties` against `definition` (plus the common Connect keys).
    public init(_ properties: [String: String], definition: ConfigDefinition, environment: [String: String] = ProcessEnvironment.current) throws(PipelineError) {
        var definition = definition.withCommonKeys()
        // A side whose converter is a registry converter takes the registry
        // keys (with JsonConverter they are Connect no-ops, ``IgnoredKey``).
        for side in ["key", "value"] where RegistryConverterSettings.isRegistryConverter(properties["\(side).converter"]) {
            definition.keys += RegistryConverterSettings.configKeys(side: side)
        }
        var resolved: [String: String] = [:]
        var ignored: [String] = []
        for (key, raw) in properties {
            if definition.ignoredKey(matching: key) != nil {
                ignored.append(key)
                continue
            }
            if definition.key(named: key) == nil && !definition.passthroughPrefixes.contains(where: { key.hasPrefix($0) }) {
                let suggestion = ConnectorConfig.closest(to: key, among: definition.keys.map(\.name))
                throw PipelineError.config(key: key, reason: "unknown or unsupported key" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""))
            }
            resolved[key] = try ConnectorConfig.substituteEnvironment(raw, key: key, environment: environment)
        }
        for key in definition.keys {
            if key.defaultValue == nil && (resolved[key.name] ?? "").isEmpty {
                throw PipelineError.config(key: key.name, reason: "missing required key")
            }
            if let value = resolved[key.name] {
                try ConnectorConfig.check(value, against: key)
            }
        }
        self.properties = resolved
        self.definition = definition
        self.ignoredKeys = ignored.sorted()
    }

    /// One line per ignored key, naming it and why it has no effect.
    public var ignoredKeyNotices: [String] {
        ignoredKeys.map { key in
            "ignoring '\(key)': \(definition.ignoredKey(matching: key)?.reason ?? "it has no effect here")"
        }
    }

    /// The raw value of `key`, falling back to its default.
    public func string(_ key: String) -> String {
        properties[key] ?? definition.key(named: key)?.defaultValue ?? ""
    }

    /// The value if explicitly set and non-empty.
    public func explicit(_ key: String) -> String? {
        guard let v = properties[key], !v.isEmpty else { return nil }
        return v
    }

    public func int(_ key: String) -> Int { Int(string(key).trimmingSpaces) ?? 0 }
    public func int64(_ key: String) -> Int64 { Int64(string(key).trimmingSpaces) ?? 0 }
    public func double(_ key: String) -> Double { Double(string(key).trimmingSpaces) ?? 0 }
    public func bool(_ key: String) -> Bool { string(key).trimmingSpaces.lowercased() == "true" }
    public func secret(_ key: String) -> Secret { Secret(string(key)) }

    /// A comma-separated list, trimmed, empty items dropped.
    public func list(_ key: String) -> [String] {
        string(key).split(separator: ",").map { String(String($0).trimmingSpaces) }.filter { !$0.isEmpty }
    }

    /// Properties under `prefix`, with the prefix removed (e.g. librdkafka pass-through).
    public func withPrefix(_ prefix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in properties where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
    }

    /// The properties sorted by key with every secret hidden.
    public var redacted: [(String, String)] {
        properties.keys.sorted().map { key in
            let isSecret = definition.key(named: key)?.isSecret ?? ConfigKey.looksSecret(key)
            return (key, isSecret ? Secret(properties[key]!).description : ConnectorConfig.redactURL(properties[key]!))
        }
    }

    public var description: String {
        "{" + redacted.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "}"
    }

    // MARK: - Helpers

    static func check(_ value: String, against key: ConfigKey) throws(PipelineError) {
        let v = value.trimmingSpaces
        switch key.type {
        case .int:
            // Connect's INT is 32 bits: a larger value is an error, not a wrap or clamp later.
            guard let n = Int64(v) else { throw PipelineError.config(key: key.name, reason: "expected an integer, got '\(v)'") }
            guard Int32(exactly: n) != nil else {
                throw PipelineError.config(key: key.name, reason: "\(v) is out of range; an int key takes -2147483648 to 2147483647")
            }
        case .long:
            guard Int64(v) != nil else { throw PipelineError.config(key: key.name, reason: "expected a 64-bit integer, got '\(v)'") }
        case .double:
            guard Double(v) != nil else { throw PipelineError.config(key: key.name, reason: "expected a number, got '\(v)'") }
        case .boolean:
            guard ["true", "false"].contains(v.lowercased()) else { throw PipelineError.config(key: key.name, reason: "expected true or false, got '\(v)'") }
        default: break
        }
        if let valid = key.validValues, !v.isEmpty, !valid.contains(where: { $0.lowercased() == v.lowercased() }) {
            throw PipelineError.config(key: key.name, reason: "'\(v)' is not supported; use one of: \(valid.joined(separator: ", "))")
        }
    }

    /// Resolves `${env:NAME}` references (Connect's EnvVarConfigProvider
    /// syntax) and `${file:PATH:KEY}` ones (its FileConfigProvider: KEY of the
    /// Java properties file PATH). Errors name the key, the variable or the
    /// file, never a value.
    static func substituteEnvironment(_ raw: String, key: String, environment: [String: String]) throws(PipelineError) -> String {
        guard raw.contains("${env:") || raw.contains("${file:") else { return raw }
        var result = ""
        var rest = Substring(raw)
        while let start = rest.range(of: "${") {
            let afterStart = rest[start.upperBound...]
            let provider: String
            if afterStart.hasPrefix("env:") {
                provider = "env"
            } else if afterStart.hasPrefix("file:") {
                provider = "file"
            } else {
                result += rest[..<start.upperBound]
                rest = afterStart
                continue
            }
            result += rest[..<start.lowerBound]
            let body = afterStart.dropFirst(provider.count + 1)
            guard let close = body.firstIndex(of: "}") else {
                throw PipelineError.config(key: key, reason: "unterminated ${\(provider):...} reference")
            }
            let reference = String(body[..<close])
            if provider == "env" {
                guard let value = environment[reference] else {
                    throw PipelineError.config(key: key, reason: "environment variable \(reference) is not set")
                }
                result += value
            } else {
                result += try fileValue(reference, key: key)
            }
            rest = body[body.index(after: close)...]
        }
        return result + rest
    }

    /// `PATH:KEY` of a `${file:…}` reference: KEY's value in the properties file PATH.
    static func fileValue(_ reference: String, key: String) throws(PipelineError) -> String {
        guard let colon = reference.lastIndex(of: ":"), colon != reference.startIndex else {
            throw PipelineError.config(key: key, reason: "${file:\(reference)} must be ${file:PATH:KEY}")
        }
        let path = String(reference[..<colon]), name = String(reference[reference.index(after: colon)...])
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.config(key: key, reason: "file \(path) named by ${file:…} cannot be read")
        }
        for rawLine in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = String(String(rawLine).trimmingSpaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!"),
                let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" })
            else { continue }
            if String(line[..<separator]).trimmingSpaces == name {
                return String(String(line[line.index(after: separator)...]).trimmingSpaces)
            }
        }
        throw PipelineError.config(key: key, reason: "file \(path) named by ${file:…} has no key \(name)")
    }

    /// Hides a password embedded in a URL (`scheme://user:pass@host`).
    public static func redactURL(_ value: String) -> String {
        guard let scheme = value.range(of: "://"), let at = value[scheme.upperBound...].firstIndex(of: "@") else { return value }
        let userInfo = value[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return value }
        return String(value[..<colon]) + ":[hidden]" + String(value[at...])
    }

    /// The known key nearest to `key` by edit distance, if reasonably near.
    static func closest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let best = scored, best.1 <= max(3, key.count / 3) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
