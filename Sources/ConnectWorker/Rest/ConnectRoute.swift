import Foundation

/// One endpoint of Kafka Connect's REST API, matched from a method and a
/// path (pure, so the table is unit-tested without a server).
public enum ConnectRoute: Equatable, Sendable {
    case root
    case listConnectors(expandStatus: Bool, expandInfo: Bool)
    case createConnector
    case getConnector(String)
    case getConfig(String)
    case putConfig(String)
    case deleteConnector(String)
    case status(String)
    case tasks(String)
    case taskStatus(String, Int)
    case restart(String, includeTasks: Bool, onlyFailed: Bool)
    case restartTask(String, Int)
    case pause(String)
    case resume(String)
    case stop(String)
    case topics(String)
    case resetTopics(String)
    case getOffsets(String)
    case alterOffsets(String)
    case resetOffsets(String)
    case plugins(connectorsOnly: Bool)
    case validate(String)

    /// The route for `method` on `path` (percent-encoded, as on the wire)
    /// with `query`; an unknown path is a 404, a known one with another
    /// method a 405, as Connect (Jersey) answers.
    public static func match(method: String, path: String, query: [(String, String)]) throws(ConnectRestError) -> ConnectRoute {
        let segments = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        func flag(_ name: String) -> Bool { query.last { $0.0 == name }?.1.lowercased() == "true" }
        let expand = Set(query.filter { $0.0 == "expand" }.map(\.1))
        let candidates: [String: ConnectRoute]
        switch segments.count {
        case 0:
            candidates = ["GET": .root]
        case 1 where segments[0] == "connectors":
            candidates = [
                "GET": .listConnectors(expandStatus: expand.contains("status"), expandInfo: expand.contains("info")),
                "POST": .createConnector,
            ]
        case 1 where segments[0] == "connector-plugins":
            candidates = ["GET": .plugins(connectorsOnly: query.last { $0.0 == "connectorsOnly" }?.1.lowercased() != "false")]
        case 2 where segments[0] == "connectors":
            candidates = ["GET": .getConnector(segments[1]), "DELETE": .deleteConnector(segments[1])]
        case 3 where segments[0] == "connectors":
            let name = segments[1]
            switch segments[2] {
            case "config": candidates = ["GET": .getConfig(name), "PUT": .putConfig(name)]
            case "status": candidates = ["GET": .status(name)]
            case "tasks": candidates = ["GET": .tasks(name)]
            case "restart": candidates = ["POST": .restart(name, includeTasks: flag("includeTasks"), onlyFailed: flag("onlyFailed"))]
            case "pause": candidates = ["PUT": .pause(name)]
            case "resume": candidates = ["PUT": .resume(name)]
            case "stop": candidates = ["PUT": .stop(name)]
            case "topics": candidates = ["GET": .topics(name)]
            case "offsets": candidates = ["GET": .getOffsets(name), "PATCH": .alterOffsets(name), "DELETE": .resetOffsets(name)]
            default: throw notFound(path)
            }
        case 4 where segments[0] == "connectors" && segments[2] == "topics" && segments[3] == "reset":
            candidates = ["PUT": .resetTopics(segments[1])]
        case 4 where segments[0] == "connector-plugins" && segments[2] == "config" && segments[3] == "validate":
            candidates = ["PUT": .validate(segments[1])]
        case 5 where segments[0] == "connectors" && segments[2] == "tasks" && ["status", "restart"].contains(segments[4]):
            guard let id = Int(segments[3]) else { throw ConnectRestError.notFound("Task \(segments[3]) of connector \(segments[1]) not found") }
            candidates = segments[4] == "status" ? ["GET": .taskStatus(segments[1], id)] : ["POST": .restartTask(segments[1], id)]
        default:
            throw notFound(path)
        }
        guard let route = candidates[method.uppercased()] else {
            throw ConnectRestError(405, "HTTP \(method.uppercased()) is not supported on \(path); use \(candidates.keys.sorted().joined(separator: " or "))")
        }
        return route
    }

    private static func notFound(_ path: String) -> ConnectRestError { .notFound("Unknown endpoint \(path)") }
}
