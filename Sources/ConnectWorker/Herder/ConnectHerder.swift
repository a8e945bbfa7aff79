import Logging
import PipelineCore

/// Owns the connectors of a `tributary connect` worker, as Connect's
/// standalone herder does: per connector its config as given, its target
/// state, its status and the one task running it (`tasks.max` is 1 here).
///
/// Operations on one connector are serialized (``OperationChain``): the actor
/// is reentrant at every `await` (stopping a connector waits for its graceful
/// stop), so without the chain two concurrent calls could both start a task
/// or a delete could lose a connector a put just created. Operations on
/// different connectors run concurrently.
///
/// Pause and stop cancel the task and await it: the connector finishes the
/// batch in hand and commits, so offsets are never lost; resume starts a new
/// run, which reads them back.
public actor ConnectHerder {
    /// Builds a runnable connector from its config (placeholders resolved there).
    public typealias Builder = @Sendable (ConnectorSpec) throws -> WorkerConnector

    struct Slot {
        var stored: StoredConnector
        var kind: ConnectorKind
        var status = ConnectorStatus(state: .unassigned)
        var task: Task<Void, Never>?
        /// Bumped on every start and stop, so an old run's end is ignored.
        var generation = 0
        /// A restart is queued or running: a DELETE then answers 409.
        var restarting = false
        var activeTopics: [String] = []
    }

    private var slots: [String: Slot] = [:]
    private var chains = OperationChain()
    /// Saves run one after another in the order their snapshots were taken,
    /// so an older snapshot never lands after a newer one.
    private var saves = OperationChain()
    private let store: any ConfigStore
    /// Distributed mode: where statuses are published; nil in standalone.
    private let statuses: KafkaStatusStore?
    private let build: Builder
    private let logger: Logger
    private var shuttingDown = false
    /// Connector runs started and not yet returned, across all connectors:
    /// once operations settle it equals the connectors with a run (tests
    /// check it to prove no run was orphaned or doubled).
    nonisolated let liveRuns = Locked(0)

    /// Connectors that have a run now.
    func connectorsWithRun() -> Int { slots.values.filter { $0.task != nil }.count }

    /// A herder keeping its state in `store`, building connectors with
    /// `build`, publishing statuses to `statuses` when given.
    public init(store: any ConfigStore, statuses: KafkaStatusStore? = nil, logger: Logger, build: @escaping Builder) {
        self.store = store
        self.statuses = statuses
        self.build = build
        self.logger = logger
    }

    /// Loads the stored connectors and starts those whose target is RUNNING.
    /// A stored config that no longer builds (say, an unset variable) leaves
    /// its connector FAILED, not the worker.
    public func start() async throws {
        for (name, stored) in try await store.load() {
            let kind: ConnectorKind
            do {
                kind = try ConnectorChecks.validate(stored.config)
            } catch {
                // Only a hand-edited store names an unknown class; the slot
                // still needs a kind to be listed, deleted or fixed by a PUT.
                let kindGuess = (try? ConnectorKind(className: stored.config["connector.class"] ?? "")) ?? .postgresSource
                slots[name] = Slot(stored: stored, kind: kindGuess)
                setStatus(name, ConnectorStatus(state: .failed, trace: error.message))
                logger.error("connector \(name) cannot start: \(error.message)")
                continue
            }
            slots[name] = Slot(stored: stored, kind: kind)
            apply(target: stored.target, to: name)
        }
        logger.notice("loaded \(slots.count) connector(s) from \(store.location)")
    }

    /// Stops every connector gracefully (their target states stay as stored,
    /// so the next start brings them back).
    public func shutdown() async {
        shuttingDown = true
        let running = slots.keys.compactMap { name -> Task<Void, Never>? in
            guard let task = slots[name]?.task else { return nil }
            slots[name]?.generation += 1
            slots[name]?.task = nil
            task.cancel()
            return task
        }
        for task in running { await task.value }
        // A run an in-flight operation (an update, a pause) is stopping is no
        // longer in a slot: wait for it too, so every run ends gracefully.
        while liveRuns.value > 0 { try? await Task.sleep(for: .milliseconds(20)) }
        await statuses?.finish()
    }

    // MARK: - Reads

    /// Connector names, sorted.
    public func names() -> [String] { slots.keys.sorted() }

    /// One connector's config, kind, target and status.
    public func info(_ name: String) throws(ConnectRestError) -> ConnectorInfo {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        let tasksMax = Int(slot.stored.config["tasks.max"] ?? "1") ?? 1
        return ConnectorInfo(
            name: name, config: slot.stored.config, kind: slot.kind, target: slot.stored.target, status: slot.status,
            notice: tasksMax > 1 ? "tasks.max=\(tasksMax): this worker runs one task per connector" : nil)
    }

    /// The topics the connector used since it started (or its last reset).
    public func activeTopics(_ name: String) throws(ConnectRestError) -> [String] {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        return slot.activeTopics
    }

    /// Forgets the connector's active topics (`PUT …/topics/reset`).
    public func resetTopics(_ name: String) throws(ConnectRestError) {
        guard slots[name] != nil else { throw .unknownConnector(name) }
        slots[name]?.activeTopics = []
    }

    // MARK: - Changes

    /// Creates or replaces a connector's config; true when it was created.
    /// An update keeps the target state (a paused connector stays paused)
    /// and, for a running one, stops the old run gracefully before the new one.
    @discardableResult
    public func put(_ name: String, config: [String: String], createOnly: Bool = false) async throws(ConnectRestError) -> Bool {
        var named = config
        named["name"] = name
        let config = named
        let kind = try ConnectorChecks.validate(config)
        if let tasksMax = Int(config["tasks.max"] ?? "1"), tasksMax > 1 {
            logger.notice("connector \(name): tasks.max=\(tasksMax), but this worker runs one task per connector")
        }
        return try await serialized(name) { herder in try await herder.applyPut(name, config: config, kind: kind, createOnly: createOnly) }
    }

    /// Stops and removes a connector; its source offsets stay, as in Connect.
    public func delete(_ name: String) async throws(ConnectRestError) {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        guard !slot.restarting else { throw .conflict("Cannot delete connector \(name) while it is restarting; try again once the restart is done") }
        try await serialized(name) { herder in try await herder.applyDelete(name) }
    }

    /// Sets the target state (pause, resume, stop) and applies it.
    public func setTarget(_ name: String, _ target: TargetState) async throws(ConnectRestError) {
        guard slots[name] != nil else { throw .unknownConnector(name) }
        try await serialized(name) { herder in try await herder.applyTarget(name, target) }
    }

    /// Restarts a connector (and its one task) without waiting for it, as
    /// Connect does; `onlyFailed` restarts only a FAILED one. Returns whether
    /// a restart was scheduled. Until it is done, a DELETE answers 409.
    public func restart(_ name: String, onlyFailed: Bool) throws(ConnectRestError) -> Bool {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        guard slot.stored.target == .running, !onlyFailed || slot.status.state == .failed else { return false }
        slots[name]?.restarting = true
        setStatus(name, ConnectorStatus(state: .restarting))
        Task {
            // An error here is a connector deleted meanwhile: nothing left to restart.
            try? await self.serialized(name) { herder in await herder.applyRestart(name) }
        }
        return true
    }

    /// Runs `body` on the stopped connector `name`, for offset changes: Connect
    /// alters offsets only of a STOPPED connector, so nothing writes them meanwhile.
    public func whileStopped<T: Sendable>(
        _ name: String, _ body: @escaping @Sendable ([String: String], ConnectorKind) async throws -> T
    ) async throws(ConnectRestError) -> T {
        guard slots[name] != nil else { throw .unknownConnector(name) }
        return try await serialized(name) { herder in
            let (config, kind) = try await herder.stoppedConfig(name)
            return try await body(config, kind)
        }
    }

    // MARK: - Serialized steps (each runs alone for its connector)

    private func applyPut(_ name: String, config: [String: String], kind: ConnectorKind, createOnly: Bool) async throws -> Bool {
        if slots[name] != nil {
            if createOnly { throw ConnectRestError.conflict("Connector \(name) already exists") }
            await stopRun(name)
            slots[name]?.stored.config = config
            slots[name]?.kind = kind
            try await persist()
            apply(target: slots[name]!.stored.target, to: name)
            logger.notice("connector \(name) reconfigured")
            return false
        }
        slots[name] = Slot(stored: StoredConnector(config: config, target: .running), kind: kind)
        do {
            try await persist()
        } catch {
            slots[name] = nil
            throw error
        }
        apply(target: .running, to: name)
        logger.notice("connector \(name) created (\(kind.rawValue))")
        return true
    }

    private func applyDelete(_ name: String) async throws {
        guard slots[name] != nil else { throw ConnectRestError.unknownConnector(name) }
        await stopRun(name)
        let removed = slots.removeValue(forKey: name)
        do {
            try await persist()
        } catch {
            slots[name] = removed
            throw error
        }
        statuses?.remove(name)
        logger.notice("connector \(name) deleted")
    }

    private func applyTarget(_ name: String, _ target: TargetState) async throws {
        guard slots[name] != nil else { throw ConnectRestError.unknownConnector(name) }
        slots[name]?.stored.target = target
        try await persist()
        if target != .running { await stopRun(name) }
        apply(target: target, to: name)
        logger.notice("connector \(name): target state \(target.rawValue)")
    }

    private func applyRestart(_ name: String) async {
        guard slots[name] != nil else { return }
        defer { slots[name]?.restarting = false }
        await stopRun(name)
        guard let target = slots[name]?.stored.target else { return }
        apply(target: target, to: name)
        logger.notice("connector \(name) restarted")
    }

    private func stoppedConfig(_ name: String) throws -> ([String: String], ConnectorKind) {
        guard let slot = slots[name] else { throw ConnectRestError.unknownConnector(name) }
        guard slot.stored.target == .stopped, slot.task == nil else {
            throw ConnectRestError.badRequest(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified "
                    + "connector by issuing a 'PUT' request to the '/connectors/\(name)/stop' endpoint")
        }
        return (slot.stored.config, slot.kind)
    }

    // MARK: - Running

    /// Brings the connector's run in line with `target`: a RUNNING target
    /// without a run starts one; the others only set the status (the run was
    /// stopped before).
    private func apply(target: TargetState, to name: String) {
        guard slots[name] != nil else { return }
        switch target {
        case .paused: setStatus(name, ConnectorStatus(state: .paused))
        case .stopped: setStatus(name, ConnectorStatus(state: .stopped))
        case .running: if slots[name]?.task == nil { launch(name) }
        }
    }

    private func launch(_ name: String) {
        guard !shuttingDown, let slot = slots[name] else { return }
        let connector: WorkerConnector
        do {
            connector = try build(ConnectorSpec(name: name, properties: slot.stored.config))
        } catch {
            setStatus(name, ConnectorStatus(state: .failed, trace: "\(error)"))
            logger.error("connector \(name) failed to start", metadata: ["error": "\(error)"])
            return
        }
        let generation = slot.generation + 1
        slots[name]?.generation = generation
        setStatus(name, ConnectorStatus(state: .running))
        slots[name]?.activeTopics = ConnectorChecks.topics(slot.stored.config, kind: slot.kind)
        let liveRuns = self.liveRuns
        liveRuns.withLock { $0 += 1 }
        slots[name]?.task = Task.detached {
            // The run happens off the actor: the herder stays free for requests.
            var failure: (any Error)?
            do { try await connector.run() } catch { failure = error }
            liveRuns.withLock { $0 -= 1 }
            await self.ended(name, generation: generation, error: failure)
        }
    }

    /// A run ended by itself (a stop bumps the generation first, so its end is ignored here).
    private func ended(_ name: String, generation: Int, error: (any Error)?) {
        guard let slot = slots[name], slot.generation == generation else { return }
        slots[name]?.task = nil
        let trace = error.map { "\($0)" } ?? "the connector stopped on its own"
        setStatus(name, ConnectorStatus(state: .failed, trace: trace))
        logger.error("connector \(name) failed", metadata: ["error": "\(trace)"])
    }

    /// Stops the connector's run gracefully and waits until it returned.
    private func stopRun(_ name: String) async {
        guard let task = slots[name]?.task else { return }
        slots[name]?.generation += 1
        slots[name]?.task = nil
        task.cancel()
        await task.value
    }

    private func persist() async throws {
        let snapshot = slots.mapValues(\.stored), store = self.store
        do {
            try await saves.enqueue("") { try await store.save(snapshot) }.value
        } catch {
            throw ConnectRestError(500, "could not write the config store \(store.location): \(error)")
        }
    }

    /// Sets a connector's status and publishes it (distributed mode).
    private func setStatus(_ name: String, _ status: ConnectorStatus) {
        guard slots[name] != nil else { return }
        slots[name]?.status = status
        statuses?.publish(name, status, generation: slots[name]!.generation)
    }

    /// Publishes every status again, once the worker id (the bound listener) is known.
    func republishStatuses() {
        for (name, slot) in slots { statuses?.publish(name, slot.status, generation: slot.generation) }
    }

    /// Runs `body` after every earlier operation on `name` has finished.
    private func serialized<T: Sendable>(
        _ name: String, _ body: @escaping @Sendable (ConnectHerder) async throws -> T
    ) async throws(ConnectRestError) -> T {
        let task = chains.enqueue(name) { try await body(self) }
        do {
            return try await task.value
        } catch let error as ConnectRestError {
            throw error
        } catch {
            throw ConnectRestError(500, "\(error)")
        }
    }
}
