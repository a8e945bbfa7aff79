import Foundation
import Logging
import PipelineCore

/// Kafka Connect's REST API over a ``ConnectHerder``: turns a request
/// (method, path, query, body) into Connect's response body and status.
/// Independent of the HTTP server, so every endpoint is testable as is.
public struct ConnectRestAPI: Sendable {
    /// A response: status and JSON body (nil: no body, as for 204).
    public struct Response: Sendable {
        public var status: Int
        public var body: JSON?

        public init(_ status: Int, _ body: JSON?) {
            self.status = status
            self.body = body
        }
    }

    /// The version this worker reports at `GET /`.
    public static let version = "0.1.0"

    let herder: ConnectHerder
    let offsets: ConnectorOffsets
    /// `host:port` this worker listens on (Connect's `worker_id`).
    var workerID: String
    let clusterID: @Sendable () async -> String?

    public init(herder: ConnectHerder, context: WorkerContext, workerID: String, clusterID: @escaping @Sendable () async -> String?) {
        self.herder = herder
        self.offsets = ConnectorOffsets(context: context)
        self.workerID = workerID
        self.clusterID = clusterID
    }

    /// Answers one request; every failure is Connect's error body.
    public func respond(method: String, path: String, query: [(String, String)], body: [UInt8]) async -> Response {
        do {
            return try await route(ConnectRoute.match(method: method, path: path, query: query), body: body)
        } catch let error as ConnectRestError {
            return Response(error.code, error.body)
        } catch {
            // A server-side failure (Kafka or a database out of reach): not the caller's mistake.
            return Response(500, ConnectRestError(500, "\(error)").body)
        }
    }

    private func route(_ route: ConnectRoute, body: [UInt8]) async throws -> Response {
        switch route {
        case .root:
            let commit = ProcessInfo.processInfo.environment["TRIBUTARY_COMMIT"] ?? "unknown"
            return Response(200, .object([
                ("version", .string(Self.version)), ("commit", .string(commit)),
                ("kafka_cluster_id", await clusterID().map(JSON.string) ?? .null),
            ]))
        case .listConnectors(let expandStatus, let expandInfo):
            let names = await herder.names()
            guard expandStatus || expandInfo else { return Response(200, .array(names.map(JSON.string))) }
            var members: [(String, JSON)] = []
            for name in names {
                // A connector deleted between the listing and this look is left out.
                guard let info = try? await herder.info(name) else { continue }
                var expanded: [(String, JSON)] = []
                if expandStatus { expanded.append(("status", status(info))) }
                if expandInfo { expanded.append(("info", connectorInfo(info))) }
                members.append((name, .object(expanded)))
            }
            return Response(200, .object(members))
        case .createConnector:
            let json = try parse(body)
            guard let name = json["name"]?.stringValue, !name.isEmpty else {
                throw ConnectRestError.badRequest("Connector name must be given as \"name\" in the request body")
            }
            guard let configJSON = json["config"] else { throw ConnectRestError.badRequest("Connector config must be given as \"config\" in the request body") }
            let config = try properties(configJSON)
            if let inner = config["name"], inner != name {
                throw ConnectRestError.badRequest("Connector name configuration (\(inner)) doesn't match connector name in the URL (\(name))")
            }
            try await herder.put(name, config: config, createOnly: true)
            return Response(201, connectorInfo(try await herder.info(name)))
        case .getConnector(let name):
            return Response(200, connectorInfo(try await herder.info(name)))
        case .getConfig(let name):
            return Response(200, stringMap(try await herder.info(name).config))
        case .putConfig(let name):
            let config = try properties(try parse(body))
            if let inner = config["name"], inner != name {
                throw ConnectRestError.badRequest("Connector name configuration (\(inner)) doesn't match connector name in the URL (\(name))")
            }
            let created = try await herder.put(name, config: config)
            return Response(created ? 201 : 200, connectorInfo(try await herder.info(name)))
        case .deleteConnector(let name):
            try await herder.delete(name)
            return Response(204, nil)
        case .status(let name):
            return Response(200, status(try await herder.info(name)))
        case .tasks(let name):
            let info = try await herder.info(name)
            return Response(200, .array(info.tasks.map { .object([("id", taskID(name, $0.id)), ("config", stringMap(info.config))]) }))
        case .taskStatus(let name, let id):
            let info = try await herder.info(name)
            guard let task = info.tasks.first(where: { $0.id == id }) else { throw ConnectRestError.notFound("Task \(id) of connector \(name) not found") }
            return Response(200, stateJSON(task.status, id: task.id, notice: nil))
        case .restart(let name, let includeTasks, let onlyFailed):
            let scheduled = try await herder.restart(name, onlyFailed: onlyFailed)
            // Connect: 204 for the plain restart, 202 with the planned states otherwise
            // (RESTARTING when scheduled, even if the restart is already under way).
            guard includeTasks || onlyFailed else { return Response(204, nil) }
            var info = try await herder.info(name)
            let restarting = ConnectorStatus(state: .restarting)
            switch scheduled {
            case .none: break
            case .connector:
                info.status = restarting
                info.tasks = info.tasks.map { TaskInfo(id: $0.id, status: restarting) }
            case .tasks(let ids):
                info.tasks = info.tasks.map { ids.contains($0.id) ? TaskInfo(id: $0.id, status: restarting) : $0 }
            }
            return Response(202, status(info))
        case .restartTask(let name, let id):
            try await herder.restartTask(name, id)
            return Response(204, nil)
        case .pause(let name):
            try await herder.setTarget(name, .paused)
            return Response(202, nil)
        case .resume(let name):
            try await herder.setTarget(name, .running)
            return Response(202, nil)
        case .stop(let name):
            try await herder.setTarget(name, .stopped)
            return Response(204, nil)
        case .topics(let name):
            let topics = try await herder.activeTopics(name)
            return Response(200, .object([(name, .object([("topics", .array(topics.map(JSON.string)))]))]))
        case .resetTopics(let name):
            try await herder.resetTopics(name)
            return Response(200, nil)
        case .getOffsets(let name):
            let info = try await herder.info(name)
            return Response(200, try await offsets.read(name, config: info.config, kind: info.kind))
        case .alterOffsets(let name):
            let json = try parse(body)
            let offsets = self.offsets
            return Response(200, try await herder.whileStopped(name) { config, kind in try await offsets.alter(name, config: config, kind: kind, body: json) })
        case .resetOffsets(let name):
            let offsets = self.offsets
            return Response(200, try await herder.whileStopped(name) { config, kind in try await offsets.alter(name, config: config, kind: kind, body: nil) })
        case .plugins:
            return Response(200, .array(ConnectorKind.allCases.map { kind in
                .object([("class", .string(kind.rawValue)), ("type", .string(kind.typeName)), ("version", .string(Self.version))])
            }))
        case .validate(let plugin):
            guard let kind = ConnectorKind.plugin(named: plugin) else {
                throw ConnectRestError.notFound("Connector plugin \(plugin) not found; this worker has \(ConnectorKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var config = try properties(try parse(body))
            if let given = config["connector.class"], ConnectorKind.plugin(named: given) != kind {
                throw ConnectRestError.badRequest("Included connector type \(given) does not match request type \(plugin)")
            }
            config["connector.class"] = kind.rawValue
            return Response(200, ConfigInfos.validate(kind, config))
        }
    }

    // MARK: - Bodies

    private func parse(_ body: [UInt8]) throws -> JSON {
        guard !body.isEmpty else { throw ConnectRestError.badRequest("The request body is empty; a JSON object is expected") }
        do {
            return try JSON.parse(body)
        } catch {
            throw ConnectRestError.badRequest("Malformed JSON in the request body: \(error)")
        }
    }

    /// A config object; numbers and booleans become strings, as Connect takes them.
    private func properties(_ json: JSON) throws -> [String: String] {
        guard case .object(let members) = json else { throw ConnectRestError.badRequest("The connector config must be a JSON object") }
        var out: [String: String] = [:]
        for (key, value) in members {
            switch value {
            case .string(let text): out[key] = text
            case .int, .double, .bool: out[key] = value.text
            default: throw ConnectRestError.badRequest("Connector configuration is invalid: the value of '\(key)' must be a string, number or boolean")
            }
        }
        return out
    }

    private func stringMap(_ map: [String: String]) -> JSON {
        .object(map.keys.sorted().map { ($0, .string(map[$0]!)) })
    }

    private func taskID(_ name: String, _ id: Int) -> JSON { .object([("connector", .string(name)), ("task", .int(Int64(id)))]) }

    private func connectorInfo(_ info: ConnectorInfo) -> JSON {
        // A stopped connector has no tasks, as in Connect.
        .object([
            ("name", .string(info.name)), ("config", stringMap(info.config)),
            ("tasks", .array(info.tasks.map { taskID(info.name, $0.id) })), ("type", .string(info.kind.typeName)),
        ])
    }

    private func stateJSON(_ status: ConnectorStatus, id: Int?, notice: String?) -> JSON {
        var members: [(String, JSON)] = []
        if let id { members.append(("id", .int(Int64(id)))) }
        members.append(("state", .string(status.state.rawValue)))
        members.append(("worker_id", .string(workerID)))
        if let trace = status.trace { members.append(("trace", .string(trace))) }
        if let notice { members.append(("msg", .string(notice))) }
        return .object(members)
    }

    private func status(_ info: ConnectorInfo) -> JSON {
        .object([
            ("name", .string(info.name)),
            ("connector", stateJSON(info.status, id: nil, notice: info.notice)),
            ("tasks", .array(info.tasks.map { stateJSON($0.status, id: $0.id, notice: nil) })),
            ("type", .string(info.kind.typeName)),
        ])
    }
}
