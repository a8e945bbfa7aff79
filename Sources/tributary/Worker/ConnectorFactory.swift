import PipelineCore

/// Builds connectors from Kafka Connect configs.
enum ConnectorFactory {
    static func make(_ spec: ConnectorSpec, context: WorkerContext) throws -> ConnectorInstance {
        let kind = try ConnectorKind(className: spec.properties["connector.class"] ?? "")
        throw PipelineError.config(key: "connector.class", reason: "\(kind.rawValue) is not wired into the worker yet")
    }
}
