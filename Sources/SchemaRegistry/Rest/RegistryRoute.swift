import Foundation

/// One endpoint of Confluent Schema Registry's REST API, matched from a
/// method and a percent-encoded path (pure, so the table is unit-tested
/// without a server). Subject names are decoded (`a%2Fb` is subject `a/b`).
public enum RegistryRoute: Equatable, Sendable {
    case root
    case schemaTypes
    case schemaByID(Int)
    case schemaTextByID(Int)
    case versionsOfID(Int)
    case subjectsOfID(Int)
    case subjects
    case lookup(String)
    case deleteSubject(String)
    case versions(String)
    case register(String)
    case version(String, VersionSelector)
    case versionSchemaText(String, VersionSelector)
    case deleteVersion(String, VersionSelector)
    /// `GET`, `PUT` or `DELETE /config` (nil subject) or `/config/{s}`.
    case config(String?, method: String)
    case compatibility(String, VersionSelector?)
    case mode

    /// The route for `method` on `path`: 404 (code 404) for an unknown path,
    /// 405 for a known one with another method, 42202 for a bad version.
    public static func match(method: String, path: String) throws(RegistryError) -> RegistryRoute {
        let s = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        let method = method.uppercased()
        var candidates: [String: RegistryRoute] = [:]
        func id(_ text: String) throws(RegistryError) -> Int {
            guard let value = Int(text), value >= 0 else { throw .schemaNotFound("Schema \(text) not found") }
            return value
        }
        switch (s.count, s.first) {
        case (0, _): candidates = ["GET": .root]
        case (1, "subjects"): candidates = ["GET": .subjects]
        case (1, "config"): candidates = Dictionary(uniqueKeysWithValues: ["GET", "PUT", "DELETE"].map { ($0, .config(nil, method: $0)) })
        case (1, "mode"), (2, "mode"): candidates = ["GET": .mode]
        case (2, "schemas") where s[1] == "types": candidates = ["GET": .schemaTypes]
        case (2, "subjects"): candidates = ["POST": .lookup(s[1]), "DELETE": .deleteSubject(s[1])]
        case (2, "config"):
            candidates = Dictionary(uniqueKeysWithValues: ["GET", "PUT", "DELETE"].map { ($0, .config(s[1], method: $0)) })
        case (3, "schemas") where s[1] == "ids": candidates = ["GET": .schemaByID(try id(s[2]))]
        case (4, "schemas") where s[1] == "ids" && s[3] == "schema": candidates = ["GET": .schemaTextByID(try id(s[2]))]
        case (4, "schemas") where s[1] == "ids" && s[3] == "versions": candidates = ["GET": .versionsOfID(try id(s[2]))]
        case (4, "schemas") where s[1] == "ids" && s[3] == "subjects": candidates = ["GET": .subjectsOfID(try id(s[2]))]
        case (3, "subjects") where s[2] == "versions": candidates = ["GET": .versions(s[1]), "POST": .register(s[1])]
        case (4, "subjects") where s[2] == "versions":
            let selector = try VersionSelector(parsing: s[3])
            candidates = ["GET": .version(s[1], selector), "DELETE": .deleteVersion(s[1], selector)]
        case (5, "subjects") where s[2] == "versions" && s[4] == "schema":
            candidates = ["GET": .versionSchemaText(s[1], try VersionSelector(parsing: s[3]))]
        case (4, "compatibility") where s[1] == "subjects" && s[3] == "versions": candidates = ["POST": .compatibility(s[2], nil)]
        case (5, "compatibility") where s[1] == "subjects" && s[3] == "versions":
            candidates = ["POST": .compatibility(s[2], try VersionSelector(parsing: s[4]))]
        default:
            throw .notFound(path)
        }
        guard let route = candidates[method] else {
            throw RegistryError(status: 405, code: 405, "HTTP \(method) is not supported on \(path); use \(candidates.keys.sorted().joined(separator: " or "))")
        }
        return route
    }
}
