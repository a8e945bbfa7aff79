import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// `PUT /connector-plugins/{class}/config/validate`: Connect's ConfigInfos
/// JSON, built from the connector's own ``ConfigDefinition`` (the one that
/// checks configs when they are created, so the two cannot disagree).
///
/// Every defined key is listed with its definition and its value: the value
/// given (secrets as `[hidden]`, as Connect hides PASSWORD values), its
/// errors and its recommended values (the key's valid values). A key given
/// but not defined is listed too, with the error naming the closest key.
enum ConfigInfos {
    static func validate(_ kind: ConnectorKind, _ config: [String: String]) -> JSON {
        let definition = kind.definition.withCommonKeys()
        var errors: [String: [String]] = [:]
        for (key, raw) in config {
            do {
                if let known = definition.key(named: key) {
                    // One key alone: the type and valid values, with `${env:…}` resolved.
                    _ = try ConnectorConfig([key: raw], definition: ConfigDefinition(keys: [known]))
                } else {
                    _ = try ConnectorConfig([key: raw], definition: definition)
                }
            } catch {
                errors[key, default: []].append(error.description)
            }
        }
        for key in definition.keys where key.defaultValue == nil && (config[key.name] ?? "").isEmpty {
            errors[key.name, default: []].append("Missing required configuration \"\(key.name)\" which has no default value.")
        }
        if errors.isEmpty {
            // Rules across keys (a mode that needs a column, say) live in the typed config.
            do {
                try check(kind, config)
            } catch let PipelineError.config(key, reason) {
                errors[key, default: []].append(PipelineError.config(key: key, reason: reason).description)
            } catch {
                errors["connector.class", default: []].append("\(error)")
            }
        }
        var entries = definition.keys.map { entry($0, value: config[$0.name], errors: errors[$0.name] ?? []) }
        for key in config.keys.sorted() where definition.key(named: key) == nil {
            let type: ConfigType = ConfigKey.looksSecret(key) ? .password : .string
            entries.append(entry(ConfigKey(key, type, default: "", doc: ""), value: config[key], errors: errors[key] ?? [], defined: false))
        }
        return .object([
            ("name", .string(kind.rawValue)),
            ("error_count", .int(Int64(errors.values.reduce(0) { $0 + $1.count }))),
            ("groups", .array([.string("Common")])),
            ("configs", .array(entries)),
        ])
    }

    static func check(_ kind: ConnectorKind, _ config: [String: String]) throws {
        try kind.check(config)
    }

    private static func entry(_ key: ConfigKey, value: String?, errors: [String], defined: Bool = true) -> JSON {
        let shown: JSON = value.map { key.isSecret ? .string("[hidden]") : .string($0) } ?? (key.defaultValue.map { .string($0) } ?? .null)
        let definitionJSON: JSON = .object([
            ("name", .string(key.name)),
            ("type", .string(connectType(key.type))),
            ("required", .bool(key.defaultValue == nil)),
            ("default_value", key.defaultValue.map { .string($0) } ?? .null),
            ("importance", .string(key.defaultValue == nil ? "HIGH" : "MEDIUM")),
            ("documentation", .string(defined ? key.doc : "not a key of this connector")),
            ("group", .string("Common")),
            ("width", .string("NONE")),
            ("display_name", .string(key.name)),
            ("dependents", .array([])),
            ("order", .int(-1)),
        ])
        let valueJSON: JSON = .object([
            ("name", .string(key.name)),
            ("value", shown),
            ("recommended_values", .array((key.validValues ?? []).map { .string($0) })),
            ("errors", .array(errors.map { .string($0) })),
            ("visible", .bool(true)),
        ])
        return .object([("definition", definitionJSON), ("value", valueJSON)])
    }

    /// Connect's ConfigDef type names.
    static func connectType(_ type: ConfigType) -> String { type.rawValue.uppercased() }
}
