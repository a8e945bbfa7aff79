import PipelineCore

extension PostgresSource {
    /// The tasks for the configured tables (or query), keeping the state of
    /// existing ones. With `strict` (startup), a whitelisted table that does
    /// not exist or a table the mode cannot poll is an error; later, such
    /// tables are logged (once each, via `reported`) and skipped so one new
    /// table cannot stop the others.
    func discover(keeping existing: [String: TableTask], strict: Bool, reported: inout Set<String>) async throws -> [String: TableTask] {
        let catalog = Catalog(client: client)
        if let query = config.query {
            if let task = existing["query"] { return ["query": task] }
            var task = try TableTask(info: try await catalog.describe(query: query), config: config)
            try await setStartingOffset(&task)
            try await ensureTopic(task)
            warnIfIllegal(task.topic)
            return ["query": task]
        }
        var tasks: [String: TableTask] = [:]
        for name in try await selectedTables(catalog, strict: strict) {
            let key = "\(name.schema ?? "public").\(name.table)"
            do {
                guard let info = try await catalog.describe(name) else { continue }  // dropped meanwhile
                var task = try TableTask(info: info, config: config)
                if let old = existing[key] {
                    task.offset = old.offset
                    task.offsetIsStored = old.offsetIsStored
                    task.phase = old.phase
                    task.recovery = old.recovery
                } else {
                    try await setStartingOffset(&task)
                    try await ensureTopic(task)
                    logger.info("polling \(key) into \(task.topic) from \(task.offset.map { "\($0)" } ?? "the beginning")")
                    warnIfIllegal(task.topic)
                }
                tasks[key] = task
            } catch where !strict && !PostgresSource.isRetriable(error) {
                if reported.insert("\(key): \(error)").inserted { logger.error("skipping \(key): \(error)") }
            }
        }
        for key in existing.keys where tasks[key] == nil { logger.warning("\(key) is gone; no longer polled") }
        return tasks
    }

    /// The topic is topic.prefix + table: a table name can make it one a
    /// real Kafka cluster refuses (the embedded broker takes any name).
    func warnIfIllegal(_ topic: String) {
        if let problem = TopicName.problem(topic) {
            logger.warning("\(problem); a real Kafka cluster will refuse it (topic.prefix + table name gives the topic)")
        }
    }

    /// Discovery at the table poll interval, retried on connection faults.
    func retryingDiscovery(keeping tasks: [String: TableTask], reported: inout Set<String>) async throws -> [String: TableTask] {
        var retry = RetryLoop(waitingFor: "PostgreSQL (listing tables)", logger: logger, backoff: outageBackoff)
        while true {
            do {
                let found = try await discover(keeping: tasks, strict: false, reported: &reported)
                retry.succeeded()
                return found
            } catch let error where PostgresSource.isRetriable(error) {
                try await retry.failed(error)
            }
        }
    }

    /// Tables matching whitelist/blacklist/schema.pattern/table.types. Whitelist
    /// entries are `table` or `schema.table`; an entry matching nothing is an
    /// error when `strict`, as is a table name found in two schemas (both would
    /// write to the same topic).
    func selectedTables(_ catalog: Catalog, strict: Bool) async throws -> [TableName] {
        let all = try await catalog.listTables(types: config.tableTypes, schemaPattern: config.schemaPattern)
        func matches(_ entry: String, _ name: TableName) -> Bool {
            entry == name.table || entry == "\(name.schema ?? "public").\(name.table)"
        }
        var selected: [TableName]
        if !config.whitelist.isEmpty {
            selected = []
            for entry in config.whitelist {
                let found = all.filter { matches(entry, $0) }
                if found.isEmpty && strict {
                    throw PipelineError.config(key: "table.whitelist", reason: "table '\(entry)' not found\(config.schemaPattern.map { " in schemas matching '\($0)'" } ?? "")")
                }
                selected += found.filter { !selected.contains($0) }
            }
        } else {
            selected = all.filter { name in !config.blacklist.contains { matches($0, name) } }
        }
        let byTable = Dictionary(grouping: selected, by: \.table)
        if let (table, names) = byTable.first(where: { $0.value.count > 1 }) {
            let reason = "table '\(table)' exists in schemas \(names.compactMap(\.schema).joined(separator: ", ")); both would write topic \(config.topicPrefix)\(table). Set schema.pattern or whitelist schema.table"
            if strict { throw PipelineError.config(key: config.whitelist.isEmpty ? "schema.pattern" : "table.whitelist", reason: reason) }
            logger.error("\(reason)")
            selected.removeAll { $0.table == table }
        }
        return selected
    }

    /// Starts `task` at the stored offset, else at `timestamp.initial` in
    /// timestamp modes, else at the beginning (nil).
    func setStartingOffset(_ task: inout TableTask) async throws {
        if let json = try await offsetStore.offset(for: task.partition) {
            guard let offset = SourceOffset(json: json) else {
                throw PipelineError.other("stored offset of \(task.partition) is not an offset: \(json.text)")
            }
            task.offset = offset
            task.offsetIsStored = true
            return
        }
        task.offsetIsStored = false
        guard config.mode.usesTimestamp, let initial = config.timestampInitialMilliseconds, let type = task.query.timestampType else {
            task.offset = nil
            return
        }
        let sql = initial == -1 ? "SELECT now()::\(type)::text" : "SELECT to_timestamp($1::float8 / 1000)::\(type)::text"
        let rows = try await client.query(sql, initial == -1 ? [] : [String(initial)], operation: "timestamp.initial")
        task.offset = SourceOffset(timestamp: rows[0][0], incrementing: config.mode == .timestampIncrementing ? Int64.min : nil)
    }
}
