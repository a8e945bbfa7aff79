import PipelineCore

/// Starting and stopping a connector's tasks. Every method runs inside one
/// of the connector's serialized operations (or the herder's start and
/// shutdown), so no two of them interleave for one connector.
extension ConnectHerder {
    /// Brings the connector's run in line with `target`: a RUNNING target
    /// without a run starts the connector; the others only set the statuses
    /// (the tasks were stopped before; a stopped connector lists none).
    func apply(target: TargetState, to name: String) async {
        guard slots[name] != nil else { return }
        switch target {
        case .paused:
            setStatus(name, ConnectorStatus(state: .paused))
            for index in slots[name]!.tasks.indices { setTaskStatus(name, index, ConnectorStatus(state: .paused)) }
        case .stopped:
            setStatus(name, ConnectorStatus(state: .stopped))
            slots[name]?.tasks = []
        case .running:
            if slots[name]?.hasRun == false { await launch(name) }
        }
    }

    /// Builds the connector, plans its tasks (a sink reads its partition
    /// count) and starts each; returns once they are started.
    private func launch(_ name: String) async {
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
        slots[name]?.tasks = []
        setStatus(name, ConnectorStatus(state: .running))
        slots[name]?.activeTopics = ConnectorChecks.topics(slot.stored.config, kind: slot.kind)
        let liveRuns = self.liveRuns
        liveRuns.withLock { $0 += 1 }
        let starting = Task.detached {
            // Off the actor: planning may read Kafka's metadata.
            let planned: Result<[WorkerTask], any Error>
            do { planned = .success(try await connector.tasks()) } catch { planned = .failure(error) }
            liveRuns.withLock { $0 -= 1 }
            await self.planned(name, generation: generation, planned)
        }
        slots[name]?.starting = starting
        await starting.value
    }

    /// The tasks are planned: start them, unless the connector was stopped meanwhile.
    private func planned(_ name: String, generation: Int, _ planned: Result<[WorkerTask], any Error>) {
        guard let slot = slots[name], slot.generation == generation else { return }
        slots[name]?.starting = nil
        switch planned {
        case .failure(let error):
            setStatus(name, ConnectorStatus(state: .failed, trace: "\(error)"))
            logger.error("connector \(name) failed to plan its tasks", metadata: ["error": "\(error)"])
        case .success(let tasks):
            slots[name]?.tasks = tasks.map { TaskSlot(work: $0, status: ConnectorStatus(state: .running)) }
            slots[name]?.taskCount = max(slot.taskCount, tasks.count)
            for index in tasks.indices { startTask(name, index) }
            if tasks.count > 1 { logger.notice("connector \(name): \(tasks.count) tasks started") }
        }
    }

    /// Starts the task at `index` on a detached task of its own.
    func startTask(_ name: String, _ index: Int) {
        guard !shuttingDown, let task = slots[name]?.tasks[index] else { return }
        let generation = task.generation + 1
        slots[name]?.tasks[index].generation = generation
        setTaskStatus(name, index, ConnectorStatus(state: .running))
        let liveRuns = self.liveRuns, work = task.work
        liveRuns.withLock { $0 += 1 }
        slots[name]?.tasks[index].run = Task.detached {
            // The run happens off the actor: the herder stays free for requests.
            var failure: (any Error)?
            do { try await work.run() } catch { failure = error }
            liveRuns.withLock { $0 -= 1 }
            await self.taskEnded(name, index, generation: generation, error: failure)
        }
    }

    /// A task ended by itself (a stop bumps its generation first, so its end
    /// is ignored here): it is FAILED, and once every task is, the connector too.
    private func taskEnded(_ name: String, _ index: Int, generation: Int, error: (any Error)?) {
        guard let slot = slots[name], slot.tasks.indices.contains(index), slot.tasks[index].generation == generation else { return }
        slots[name]?.tasks[index].run = nil
        let trace = error.map { "\($0)" } ?? "the task stopped on its own"
        setTaskStatus(name, index, ConnectorStatus(state: .failed, trace: trace))
        logger.error("connector \(name): task \(slot.tasks[index].work.id) failed", metadata: ["error": "\(trace)"])
        if slots[name]!.tasks.allSatisfy({ $0.status.state == .failed }) {
            setStatus(name, ConnectorStatus(state: .failed, trace: trace))
        }
    }

    /// Stops one task gracefully and waits until it returned.
    func stopTask(_ name: String, _ index: Int) async {
        guard let run = slots[name]?.tasks[index].run else { return }
        slots[name]?.tasks[index].generation += 1
        slots[name]?.tasks[index].run = nil
        run.cancel()
        await run.value
    }

    /// Stops the connector's start and tasks gracefully and waits until they returned.
    func stopRun(_ name: String) async {
        for run in takeRuns(name) { await run.value }
    }

    /// Cancels whatever of the connector runs and hands the runs back to be
    /// awaited; their ends are ignored (the generations moved on).
    func takeRuns(_ name: String) -> [Task<Void, Never>] {
        guard let slot = slots[name] else { return [] }
        slots[name]?.generation += 1
        var runs: [Task<Void, Never>] = []
        if let starting = slot.starting { runs.append(starting) }
        slots[name]?.starting = nil
        for index in slot.tasks.indices {
            guard let run = slot.tasks[index].run else { continue }
            slots[name]?.tasks[index].generation += 1
            slots[name]?.tasks[index].run = nil
            runs.append(run)
        }
        for run in runs { run.cancel() }
        return runs
    }

    /// Sets a task's status and publishes it (distributed mode).
    func setTaskStatus(_ name: String, _ index: Int, _ status: ConnectorStatus) {
        guard let task = slots[name]?.tasks[index] else { return }
        slots[name]?.tasks[index].status = status
        statuses?.publishTask(name, task.work.id, status, generation: task.generation)
    }
}
