import Console
import PipelineCore

/// The console's view of the worker's connectors.
extension ConnectHerder: ConnectorDirectory {
    public func connectors() async -> [ConnectorOverview] {
        names().compactMap { try? overview(info($0)) }
    }

    public func connector(named name: String) async -> ConnectorDetail? {
        guard let info = try? info(name) else { return nil }
        return ConnectorDetail(
            overview: overview(info), tasks: info.tasks.map { (id: $0.id, state: $0.status.state.rawValue) }, config: info.config, trace: info.status.trace)
    }

    private func overview(_ info: ConnectorInfo) -> ConnectorOverview {
        let isSink = info.kind.role == .sink
        let configured = (info.config["topics"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let active = (try? activeTopics(info.name)) ?? []
        return ConnectorOverview(
            name: info.name, type: isSink ? "sink" : "source", state: info.status.state.rawValue,
            topics: Array(Set(configured + active)).sorted(),
            groupID: isSink ? ConnectorSpec.sinkGroupID(connector: info.name) : nil,
            deadLetterTopic: info.config["errors.deadletterqueue.topic.name"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
