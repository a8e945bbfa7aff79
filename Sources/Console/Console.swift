import Foundation
import Mustache
import PipelineCore

/// The web console: server-rendered pages over a cluster (topics,
/// partitions, messages, consumer groups and their lag) and, in `tributary
/// connect`, its connectors. Served under `/ui` by any HTTP server that
/// hands it ``ConsoleRequest``s.
///
/// Read-only: every page is a GET that reads only what it shows (a
/// messages page reads just its offset range). The one way to change
/// anything is a connector page's pause, resume and restart buttons, which
/// call the worker's REST API. Every string from data (topic names, keys,
/// headers, payloads) is HTML-escaped by the templates.
public final class Console: Sendable {
    /// The path prefix of every page.
    public static let prefix = "/ui"
    /// Messages per page at most.
    public static let maxCount = 500

    private let cluster: ClusterView
    private let directory: (any ConnectorDirectory)?
    /// Groups to show although the broker does not list groups (the mock broker).
    private let extraGroups: [String]

    /// A console over `kafka`'s cluster, with `directory`'s connectors if given.
    public init(kafka: KafkaConfiguration, directory: (any ConnectorDirectory)? = nil, groups: [String] = []) throws {
        cluster = ClusterView(admin: try KafkaAdmin(configuration: kafka), kafka: kafka)
        self.directory = directory
        extraGroups = groups
    }

    /// The page for `request`; 404 for an unknown path, 405 for anything but GET.
    public func respond(to request: ConsoleRequest) async -> ConsoleResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return page(405, "error", title: "Method not allowed", ["message": "The console only reads; use the REST API to change connectors."])
        }
        guard let segments = Self.segments(of: request.path) else {
            return page(404, "error", title: "Not found", ["message": "No such page."])
        }
        do {
            switch segments.count {
            case 0:
                return try await overview()
            case 2 where segments[0] == "topics":
                return try await topicPage(segments[1])
            case 3 where segments[0] == "topics" && segments[2] == "messages":
                return try await messagesPage(segments[1], request)
            case 2 where segments[0] == "groups":
                return try await groupPage(segments[1])
            case 2 where segments[0] == "connectors":
                return await connectorPage(segments[1])
            default:
                return page(404, "error", title: "Not found", ["message": "No such page."])
            }
        } catch let error as ConsoleNotFound {
            return page(404, "error", title: "Not found", ["message": error.message])
        } catch {
            return page(502, "error", title: "Kafka did not answer", ["message": "\(error)"])
        }
    }

    /// The path's segments after `/ui`, percent-decoded; nil when it is not a console path.
    static func segments(of path: String) -> [String]? {
        guard path == prefix || path.hasPrefix(prefix + "/") else { return nil }
        let rest = path.dropFirst(prefix.count)
        var out: [String] = []
        for part in rest.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(part).removingPercentEncoding else { return nil }
            out.append(decoded)
        }
        return out
    }

    /// `text` as one path segment or query value: every byte but unreserved ones percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    // MARK: - Pages

    private func overview() async throws -> ConsoleResponse {
        let brokers = try await cluster.admin.brokers()
        let connectors = await directory?.connectors() ?? []
        let deadLetterTopics = Set(connectors.compactMap(\.deadLetterTopic))
        var summaries: [ClusterView.TopicSummary] = []
        for topic in try await cluster.topics() { summaries.append(try await cluster.summary(of: topic)) }
        let (groups, note) = await knownGroups(connectors)
        var groupRows: [[String: Any]] = []
        for group in groups {
            var lag: Int64 = 0
            var any = false
            for summary in summaries where group.topics == nil || group.topics!.contains(summary.name) {
                if let groupLag = try await cluster.lag(of: group.name, in: summary) {
                    lag += groupLag.total
                    any = true
                }
            }
            groupRows.append([
                "name": group.name, "url": Self.percentEncoded(group.name), "state": group.state,
                "members": group.members.map(String.init) ?? "?", "lag": any ? String(lag) : "-",
            ])
        }
        return page(200, "overview", title: "Overview", [
            "brokers": brokers.map { ["id": $0.id, "host": $0.host, "port": $0.port] as [String: Any] },
            "topics": summaries.map {
                ["name": $0.name, "url": Self.percentEncoded($0.name), "partitions": $0.partitions.count, "records": $0.records,
                 "deadLetters": deadLetterTopics.contains($0.name)] as [String: Any]
            },
            "groups": groupRows, "groupsNote": note as Any,
            "connectors": connectors.map { ["name": $0.name, "url": Self.percentEncoded($0.name), "type": $0.type, "state": $0.state] as [String: Any] },
        ])
    }

    private func topicPage(_ name: String) async throws -> ConsoleResponse {
        let summary = try await topicSummary(name)
        let connectors = await directory?.connectors() ?? []
        let (groups, _) = await knownGroups(connectors)
        var readers: [[String: Any]] = []
        for group in groups where group.topics == nil || group.topics!.contains(name) {
            guard let lag = try await cluster.lag(of: group.name, in: summary) else { continue }
            readers.append([
                "name": group.name, "url": Self.percentEncoded(group.name), "total": lag.total,
                "partitions": lag.partitions.map {
                    ["partition": $0.partition, "committed": $0.committed.map(String.init) ?? "-", "high": $0.high, "lag": $0.lag] as [String: Any]
                },
            ])
        }
        let url = Self.percentEncoded(name)
        return page(200, "topic", title: "Topic \(name)", [
            "url": url,
            "partitions": summary.partitions.map {
                ["partition": $0.partition, "leader": $0.leader, "low": $0.low, "high": $0.high, "records": $0.high - $0.low, "url": url] as [String: Any]
            },
            "groups": readers,
        ])
    }

    private func messagesPage(_ name: String, _ request: ConsoleRequest) async throws -> ConsoleResponse {
        let summary = try await topicSummary(name)
        let partition = request.parameter("partition").flatMap { Int32($0) } ?? summary.partitions.first?.partition ?? 0
        guard let marks = summary.partitions.first(where: { $0.partition == partition }) else {
            throw ConsoleNotFound(message: "Topic \(name) has no partition \(partition).")
        }
        let count = min(Self.maxCount, max(1, request.parameter("count").flatMap { Int($0) } ?? 20))
        let requested = request.parameter("offset").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        // From the newest unless an offset is given; always inside the log.
        let from = max(marks.low, min(requested ?? (marks.high - Int64(count)), marks.high))
        let to = min(marks.high, from + Int64(count))
        let tp = TopicPartition(name, partition)
        let messages = try await KafkaRangeReader.read(configuration: cluster.kafka, ranges: [tp: from..<to], timeout: .seconds(10))
        let key = request.parameter("key"), contains = request.parameter("contains")
        let shown = messages.filter { MessageRow.matches($0, key: key, contains: contains) }.reversed().map(MessageRow.init)
        let url = Self.percentEncoded(name)
        func link(_ offset: Int64) -> String {
            var query = "partition=\(partition)&offset=\(offset)&count=\(count)"
            if let key, !key.isEmpty { query += "&key=" + Self.percentEncoded(key) }
            if let contains, !contains.isEmpty { query += "&contains=" + Self.percentEncoded(contains) }
            return "/ui/topics/\(url)/messages?\(query)"
        }
        return page(200, "messages", title: "Messages of \(name)", [
            "url": url, "partition": partition, "from": from, "to": max(from, to - 1), "low": marks.low, "high": marks.high,
            "count": count, "offsetField": requested.map(String.init) ?? "", "keyFilter": key ?? "", "containsFilter": contains ?? "",
            "filtered": (key?.isEmpty == false) || (contains?.isEmpty == false), "shown": shown.count,
            "olderURL": (from > marks.low ? link(max(marks.low, from - Int64(count))) : nil) as Any,
            "newerURL": (to < marks.high ? link(to) : nil) as Any,
            "partitionChoices": summary.partitions.map { ["value": $0.partition, "selected": $0.partition == partition] as [String: Any] },
            "rows": shown.map(Self.row),
        ])
    }

    private func groupPage(_ name: String) async throws -> ConsoleResponse {
        let listed = await cluster.listedGroups()
        let described = listed?.first { $0.name == name }
        let connectors = await directory?.connectors() ?? []
        var topicNames = Set(described?.members.flatMap { $0.assignment.map(\.topic) } ?? [])
        topicNames.formUnion(connectors.filter { $0.groupID == name }.flatMap(\.topics))
        if topicNames.isEmpty { topicNames = Set(try await cluster.topics().map(\.name)) }
        var topics: [[String: Any]] = []
        for topic in try await cluster.topics() where topicNames.contains(topic.name) {
            let summary = try await cluster.summary(of: topic)
            guard let lag = try await cluster.lag(of: name, in: summary) else { continue }
            topics.append([
                "name": topic.name, "url": Self.percentEncoded(topic.name), "total": lag.total,
                "partitions": lag.partitions.map {
                    ["partition": $0.partition, "committed": $0.committed.map(String.init) ?? "-", "high": $0.high, "lag": $0.lag] as [String: Any]
                },
            ])
        }
        if described == nil && topics.isEmpty && listed != nil {
            throw ConsoleNotFound(message: "No consumer group \(name).")
        }
        return page(200, "group", title: "Consumer group \(name)", [
            "state": described?.state as Any, "protocolName": described?.protocolName as Any,
            "membersNote": (listed == nil ? "This broker does not list groups or their members (the embedded test broker); committed offsets are shown." : nil) as Any,
            "members": (described?.members ?? []).map {
                ["memberID": $0.memberID, "clientID": $0.clientID, "clientHost": $0.clientHost,
                 "assignment": $0.assignment.map(\.description).joined(separator: ", ")] as [String: Any]
            },
            "topics": topics,
        ])
    }

    private func connectorPage(_ name: String) async -> ConsoleResponse {
        guard let directory, let detail = await directory.connector(named: name) else {
            return page(404, "error", title: "Not found", ["message": "No connector \(name)."])
        }
        let overview = detail.overview
        return page(200, "connector", title: "Connector \(name)", [
            "name": overview.name, "type": overview.type, "state": overview.state,
            "tasks": detail.tasks.map { ["id": $0.id, "state": $0.state] as [String: Any] },
            // Optionals: nil leaves out the section ("" would not).
            "trace": detail.trace as Any,
            "groupID": overview.groupID as Any, "groupURL": overview.groupID.map(Self.percentEncoded) as Any,
            "config": detail.config.keys.sorted().map { ["key": $0, "value": SecretMasking.display(key: $0, value: detail.config[$0]!)] },
        ])
    }

    // MARK: - Helpers

    private struct KnownGroup {
        var name: String
        var state: String
        var members: Int?
        /// Nil: any topic.
        var topics: Set<String>?
    }

    /// The broker's groups, else the connectors' and the configured ones, with a note saying so.
    private func knownGroups(_ connectors: [ConnectorOverview]) async -> ([KnownGroup], String?) {
        if let listed = await cluster.listedGroups() {
            return (listed.map {
                KnownGroup(name: $0.name, state: $0.state, members: $0.members.count, topics: Set($0.members.flatMap { $0.assignment.map(\.topic) }).nilIfEmpty)
            }, nil)
        }
        var groups: [KnownGroup] = connectors.compactMap { c in c.groupID.map { KnownGroup(name: $0, state: c.state, members: nil, topics: Set(c.topics).nilIfEmpty) } }
        for name in extraGroups where !groups.contains(where: { $0.name == name }) {
            groups.append(KnownGroup(name: name, state: "?", members: nil, topics: nil))
        }
        return (groups.sorted { $0.name < $1.name }, "This broker does not list groups (the embedded test broker): these are the connectors' groups and those named with --group.")
    }

    private func topicSummary(_ name: String) async throws -> ClusterView.TopicSummary {
        guard let topic = try await cluster.topics().first(where: { $0.name == name }) else {
            throw ConsoleNotFound(message: "No topic \(name).")
        }
        return try await cluster.summary(of: topic)
    }

    private static func row(_ row: MessageRow) -> [String: Any] {
        func bytes(_ r: RenderedBytes) -> [String: Any] { ["kind": r.kind.rawValue, "text": r.text, "schema": r.schema as Any] }
        return [
            "offset": row.offset, "timestamp": row.timestamp, "key": bytes(row.key), "value": bytes(row.value),
            "headers": row.headers.map { ["name": $0.name, "value": bytes($0.value)] as [String: Any] },
            "hasErrorHeaders": !row.errorHeaders.isEmpty,
            "errorHeaders": row.errorHeaders.map { ["name": $0.name, "value": $0.value] },
        ]
    }

    /// `values` without the nil optionals, at every depth: Mustache renders
    /// a nil stored as `Any` as the text "nil" and opens its section, while
    /// a missing key is false. Pages pass optionals for their optional parts.
    static func withoutNils(_ values: [String: Any]) -> [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in values {
            if let kept = withoutNils(value) { out[key] = kept }
        }
        return out
    }

    private static func withoutNils(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutNils(wrapped)
        }
        if let dictionary = value as? [String: Any] { return withoutNils(dictionary) }
        if let array = value as? [[String: Any]] { return array.map { withoutNils($0) } }
        return value
    }

    private func page(_ status: Int, _ template: String, title: String, _ values: [String: Any]) -> ConsoleResponse {
        var context = Self.withoutNils(values)
        context["title"] = title
        context["hasConnectors"] = directory != nil
        let html = Templates.library.render(context, withTemplate: template) ?? "template \(template) is missing"
        return ConsoleResponse(status: status, html: html)
    }
}

/// A page whose topic, partition, group or connector does not exist.
struct ConsoleNotFound: Error {
    var message: String
}

extension Set {
    fileprivate var nilIfEmpty: Set? { isEmpty ? nil : self }
}
