import Logging
import PipelineCore

/// Owns the connectors of a `tributary connect` worker, as Connect's
/// standalone herder does: per connector its config as given, its target
/// state, its status and its tasks: a sink's min(`tasks.max`, partitions)
/// members of its consumer group, a JDBC source's share of its tables.
///
/// Operations on one connector are serialized (``OperationChain``): the actor
/// is reentrant at every `await` (stopping a connector waits for its graceful
/// stop), so without the chain two concurrent calls could both start a task
/// or a delete could lose a connector a put just created. Operations on
/// different connectors run concurrently.
///
/// Pause and stop cancel the tasks and await them: each finishes the batch
/// in hand and commits, so offsets are never lost; resume starts the
/// connector again (its tasks planned afresh), and they read them back.
/// A task restarts alone (``restartTask(_:_:)``); the others keep running.
public actor ConnectHerder {
    /// Builds a runnable connector from its config (placeholders resolved there).
    public typealias Builder = @Sendable (ConnectorSpec) throws -> WorkerConnector

    struct Slot {
        var stored: StoredConnector
        var kind: ConnectorKind
        var status = ConnectorStatus(state: .unassigned)
        /// Building the connector and planning its tasks.
        var starting: Task<Void, Never>?
        /// The planned tasks, by index; a stopped connector has none.
        var tasks: [TaskSlot] = []
        /// The most tasks it ever had, whose statuses a delete removes.
        var taskCount = 0
        /// Bumped on every start and stop, so an old run's end is ignored.
        var generation = 0
        /// A restart is queued or running: a DELETE then answers 409.
        var restarting = false
        var activeTopics: [String] = []

        /// Whether anything of the connector runs (or is being started).
        var hasRun: Bool { starting != nil || tasks.contains { $0.run != nil } }
    }

    /// One task of a connector.
    struct TaskSlot {
        var work: WorkerTask
        var status: ConnectorStatus
        var run: Task<Void, Never>?
        /// Bumped on every start and stop of this task, so an old run's end is ignored.
        var generation = 0
    }

    var slots: [String: Slot] = [:]
    private var chains = OperationChain()
    /// Saves run one after another in the order their snapshots were taken,
    /// so an older snapshot never lands after a newer one.
    private var saves = OperationChain()
    private let store: any ConfigStore
    /// Distributed mode: where statuses are published; nil in standalone.
    let statuses: KafkaStatusStore?
    let build: Builder
    let logger: Logger
    var shuttingDown = false
    /// Task runs and connector starts begun and not yet returned, across all
    /// connectors: once operations settle it equals ``runs()`` (tests check
    /// it to prove no run was orphaned or doubled).
    nonisolated let liveRuns = Locked(0)

    /// Task runs and connector starts the slots hold now.
    func runs() -> Int { slots.values.reduce(0) { $0 + ($1.starting == nil ? 0 : 1) + $1.tasks.filter { $0.run != nil }.count } }

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
            await apply(target: stored.target, to: name)
        }
        logger.notice("loaded \(slots.count) connector(s) from \(store.location)")
    }

    /// Stops every connector gracefully (their target states stay as stored,
    /// so the next start brings them back).
    public func shutdown() async {
        shuttingDown = true
        let running = slots.keys.flatMap { name in takeRuns(name) }
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
        let tasksMax = ConnectorSpec.tasksMax(slot.stored.config)
        let tasks = slot.tasks.map { TaskInfo(id: $0.work.id, status: $0.status) }
        return ConnectorInfo(
            name: name, config: slot.stored.config, kind: slot.kind, target: slot.stored.target, status: slot.status, tasks: tasks,
            notice: !tasks.isEmpty && tasks.count < tasksMax
                ? "tasks.max=\(tasksMax): \(tasks.count) task(s), no more than there are \(slot.kind.role == .sink ? "partitions" : "tables") to share" : nil)
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

    /// What ``restart(_:onlyFailed:)`` scheduled.
    public enum Restart: Sendable, Equatable {
        /// Nothing: the connector is not RUNNING, or `onlyFailed` found nothing failed.
        case none
        /// The connector and all its tasks.
        case connector
        /// Only these failed tasks of a connector that is itself running.
        case tasks([Int])
    }

    /// Restarts a connector (and its tasks) without waiting for it, as
    /// Connect does; `onlyFailed` restarts a FAILED connector, or else only
    /// its FAILED tasks. Until a connector restart is done, a DELETE answers 409.
    public func restart(_ name: String, onlyFailed: Bool) throws(ConnectRestError) -> Restart {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        guard slot.stored.target == .running else { return .none }
        if onlyFailed && slot.status.state != .failed {
            let failed = slot.tasks.filter { $0.status.state == .failed }.map(\.work.id)
            for id in failed { try restartTask(name, id) }
            return failed.isEmpty ? .none : .tasks(failed)
        }
        slots[name]?.restarting = true
        setStatus(name, ConnectorStatus(state: .restarting))
        Task {
            // An error here is a connector deleted meanwhile: nothing left to restart.
            try? await self.serialized(name) { herder in await herder.applyRestart(name) }
        }
        return .connector
    }

    /// Restarts one task without waiting for it, as Connect does; the
    /// connector's other tasks keep running. 404 for a task it does not have.
    public func restartTask(_ name: String, _ id: Int) throws(ConnectRestError) {
        guard let slot = slots[name] else { throw .unknownConnector(name) }
        guard slot.stored.target != .stopped, slot.tasks.contains(where: { $0.work.id == id }) else {
            throw .notFound("Task \(id) of connector \(name) not found")
        }
        Task {
            // An error here is a connector deleted meanwhile: nothing left to restart.
            try? await self.serialized(name) { herder in await herder.applyTaskRestart(name, id) }
        }
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
            await apply(target: slots[name]!.stored.target, to: name)
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
        await apply(target: .running, to: name)
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
        statuses?.remove(name, tasks: removed?.taskCount ?? 0)
        logger.notice("connector \(name) deleted")
    }

    private func applyTarget(_ name: String, _ target: TargetState) async throws {
        guard slots[name] != nil else { throw ConnectRestError.unknownConnector(name) }
        slots[name]?.stored.target = target
        try await persist()
        if target != .running { await stopRun(name) }
        await apply(target: target, to: name)
        logger.notice("connector \(name): target state \(target.rawValue)")
    }

    private func applyRestart(_ name: String) async {
        guard slots[name] != nil else { return }
        defer { slots[name]?.restarting = false }
        await stopRun(name)
        guard let target = slots[name]?.stored.target else { return }
        await apply(target: target, to: name)
        logger.notice("connector \(name) restarted")
    }

    /// The task is built afresh (a run is never started twice: a source's
    /// producer, for one, is closed when its run ends), from the connector's
    /// config as it is now.
    private func applyTaskRestart(_ name: String, _ id: Int) async {
        guard let slot = slots[name], slot.stored.target == .running, let index = slot.tasks.firstIndex(where: { $0.work.id == id }) else { return }
        await stopTask(name, index)
        do {
            let tasks = try await build(ConnectorSpec(name: name, properties: slot.stored.config)).tasks()
            guard let work = tasks.first(where: { $0.id == id }) else {
                throw PipelineError.other("the connector now plans \(tasks.count) task(s); restart the connector")
            }
            guard slots[name]?.tasks.indices.contains(index) == true else { return }
            slots[name]?.tasks[index].work = work
        } catch {
            setTaskStatus(name, index, ConnectorStatus(state: .failed, trace: "\(error)"))
            logger.error("connector \(name): task \(id) failed to restart", metadata: ["error": "\(error)"])
            return
        }
        startTask(name, index)
        logger.notice("connector \(name): task \(id) restarted")
    }

    private func stoppedConfig(_ name: String) throws -> ([String: String], ConnectorKind) {
        guard let slot = slots[name] else { throw ConnectRestError.unknownConnector(name) }
        guard slot.stored.target == .stopped, !slot.hasRun else {
            throw ConnectRestError.badRequest(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified "
                    + "connector by issuing a 'PUT' request to the '/connectors/\(name)/stop' endpoint")
        }
        return (slot.stored.config, slot.kind)
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
    func setStatus(_ name: String, _ status: ConnectorStatus) {
        guard slots[name] != nil else { return }
        slots[name]?.status = status
        statuses?.publish(name, status, generation: slots[name]!.generation)
    }

    /// Publishes every status again, once the worker id (the bound listener) is known.
    func republishStatuses() {
        for (name, slot) in slots {
            statuses?.publish(name, slot.status, generation: slot.generation)
            for task in slot.tasks { statuses?.publishTask(name, task.work.id, task.status, generation: task.generation) }
        }
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
