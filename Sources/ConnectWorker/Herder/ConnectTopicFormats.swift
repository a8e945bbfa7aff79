import PipelineCore

/// The keys and values of Kafka Connect's internal topics, as Connect's
/// KafkaConfigBackingStore, KafkaOffsetBackingStore and
/// KafkaStatusBackingStore write them (JsonConverter, schemas off), so a
/// Connect cluster and this worker read each other's topics.
enum ConnectTopicFormats {
    // MARK: - config.storage.topic

    /// One record of the config topic; a nil value is a tombstone.
    struct Record: Equatable {
        var key: String
        var value: JSON?
    }

    /// The records that take the config topic from `old` to `new`: for a
    /// new or changed config, `connector-NAME` (`{"properties":{…}}`), its
    /// one task's `task-NAME-0` and `commit-NAME` (`{"tasks":1}`), as
    /// Connect's herder writes them after a config change; for a changed
    /// target, `target-state-NAME`; for a removed connector, tombstones for
    /// `connector-NAME` and `target-state-NAME` (what Connect removes).
    static func configChanges(from old: [String: StoredConnector], to new: [String: StoredConnector]) -> [Record] {
        var records: [Record] = []
        for name in new.keys.sorted() {
            let stored = new[name]!
            let before = old[name]
            // Target first: a connector that appears appears in its target state.
            if before?.target != stored.target {
                records.append(Record(key: "target-state-\(name)", value: targetValue(stored.target)))
            }
            if before?.config != stored.config {
                let properties = JSON.object([("properties", stringMap(stored.config))])
                records.append(Record(key: "connector-\(name)", value: properties))
                records.append(Record(key: "task-\(name)-0", value: properties))
                records.append(Record(key: "commit-\(name)", value: .object([("tasks", .int(1))])))
            }
        }
        for name in old.keys.sorted() where new[name] == nil {
            records.append(Record(key: "connector-\(name)", value: nil))
            records.append(Record(key: "target-state-\(name)", value: nil))
        }
        return records
    }

    /// Connect's target-state value: RUNNING is `{"state":"STARTED"}`; PAUSED
    /// and STOPPED carry `state.v2`, with `state` PAUSED for older workers.
    static func targetValue(_ target: TargetState) -> JSON {
        switch target {
        case .running: .object([("state", .string("STARTED"))])
        case .paused: .object([("state", .string("PAUSED")), ("state.v2", .string("PAUSED"))])
        case .stopped: .object([("state", .string("PAUSED")), ("state.v2", .string("STOPPED"))])
        }
    }

    /// The connectors a config topic's records (in topic order) leave.
    /// A connector without a target-state record runs (Connect's default);
    /// task, commit and other records (session keys, restarts) carry
    /// nothing a one-worker group needs.
    static func connectors(from records: [Record], topic: String) throws -> [String: StoredConnector] {
        var configs: [String: [String: String]] = [:]
        var targets: [String: TargetState] = [:]
        for record in records {
            if let name = record.key.dropPrefix("connector-") {
                guard let value = record.value else {
                    configs[name] = nil
                    continue
                }
                guard case .object(let pairs)? = value["properties"] else {
                    // The value itself stays out of the message: it may hold a password.
                    throw PipelineError.other("config topic \(topic): record \(record.key) has no \"properties\" object")
                }
                var config: [String: String] = [:]
                for (key, value) in pairs { config[key] = value.stringValue ?? value.text }
                configs[name] = config
            } else if let name = record.key.dropPrefix("target-state-") {
                guard let value = record.value else {
                    targets[name] = nil
                    continue
                }
                targets[name] = try target(value, key: record.key, topic: topic)
            }
        }
        var out: [String: StoredConnector] = [:]
        for (name, config) in configs { out[name] = StoredConnector(config: config, target: targets[name] ?? .running) }
        return out
    }

    private static func target(_ value: JSON, key: String, topic: String) throws -> TargetState {
        let state = value["state.v2"]?.stringValue ?? value["state"]?.stringValue
        switch state {
        case "STARTED"?: return .running
        case "PAUSED"?: return .paused
        case "STOPPED"?: return .stopped
        default: throw PipelineError.other("config topic \(topic): record \(key) has no known state: \(value.text)")
        }
    }

    // MARK: - offset.storage.topic

    /// The offset topic's key for a source offset stored under
    /// `CONNECTOR/SUFFIX` locally: `["CONNECTOR",{"table":"public.USERS"}]`
    /// (`{"query":"query"}` for a query source, `{"server":"CONNECTOR"}` for
    /// the CDC source's `CONNECTOR/cdc`), Connect's
    /// `[connector name, source partition]`.
    static func offsetKey(_ localKey: String) -> JSON? {
        guard let slash = localKey.firstIndex(of: "/") else { return nil }
        let connector = String(localKey[..<slash])
        let suffix = String(localKey[localKey.index(after: slash)...])
        // The CDC source keeps one position per connector, as Debezium does under {"server": …}.
        let partition = suffix == "cdc" ? JSON.object([("server", .string(connector))]) : ConnectorOffsets.sourcePartition(suffix)
        return .array([.string(connector), partition])
    }

    /// The local `CONNECTOR/SUFFIX` key of an offset-topic key; nil for a
    /// partition shape no source here writes (another connector's record).
    static func localOffsetKey(_ key: JSON) -> String? {
        guard case .array(let parts) = key, parts.count == 2, let connector = parts[0].stringValue,
            case .object(let partition) = parts[1], partition.count == 1
        else { return nil }
        switch partition[0] {
        case ("table", .string(let table)): return "\(connector)/\(table)"
        case ("query", .string("query")): return "\(connector)/query"
        case ("server", .string(connector)): return "\(connector)/cdc"
        default: return nil
        }
    }

    // MARK: - status.storage.topic

    /// `status-connector-NAME` or `status-task-NAME-0`'s value:
    /// `{"state":"RUNNING","trace":null,"worker_id":"HOST:PORT","generation":N}`.
    static func statusValue(_ status: ConnectorStatus, workerID: String, generation: Int) -> JSON {
        .object([
            ("state", .string(status.state.rawValue)),
            ("trace", status.trace.map(JSON.string) ?? .null),
            ("worker_id", .string(workerID)),
            ("generation", .int(Int64(generation))),
        ])
    }

    private static func stringMap(_ config: [String: String]) -> JSON {
        .object(config.keys.sorted().map { ($0, .string(config[$0]!)) })
    }
}

extension String {
    /// The rest after `prefix`, or nil when the string does not start with it.
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
