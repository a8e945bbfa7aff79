/// A connector definition file as Kafka Connect's REST API takes it:
/// `{"name": ..., "config": {...}}`, or a bare config object.
public struct ConnectorSpec: Sendable {
    public var name: String
    public var properties: [String: String]

    public init(name: String, properties: [String: String]) {
        self.name = name
        self.properties = properties
    }

    /// The consumer group of the sink connector `name`, named as Kafka
    /// Connect names it (`connect-<name>`), so offsets and lag tools agree.
    public static func sinkGroupID(connector name: String) -> String { "connect-\(name)" }

    /// The most tasks the connector configured by `properties` may run:
    /// `tasks.max`, at least 1 (the default when it is missing or not a number).
    public static func tasksMax(_ properties: [String: String]) -> Int {
        max(1, Int(properties["tasks.max"] ?? "1") ?? 1)
    }

    /// Parses a connector JSON document. Numbers and booleans become strings,
    /// as Connect's REST layer accepts them.
    public static func parse(_ bytes: [UInt8], fallbackName: String) throws(PipelineError) -> ConnectorSpec {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw PipelineError.config(key: fallbackName, reason: error.description) }
        let configJSON = json["config"] ?? json
        guard case .object(let members) = configJSON else {
            throw PipelineError.config(key: fallbackName, reason: "a connector must be a JSON object")
        }
        var properties: [String: String] = [:]
        for (key, value) in members {
            switch value {
            case .string(let s): properties[key] = s
            case .int, .double, .bool: properties[key] = value.text
            default: throw PipelineError.config(key: key, reason: "value must be a string, number or boolean")
            }
        }
        let name = json["name"]?.stringValue ?? properties["name"] ?? fallbackName
        properties["name"] = name
        return ConnectorSpec(name: name, properties: properties)
    }
}
