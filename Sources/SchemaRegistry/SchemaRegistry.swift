import Logging
import PipelineCore

/// A schema registry kept in a Kafka topic: the state is rebuilt from the
/// topic at ``open()``, and every write is appended to the topic (acks=all)
/// before it is applied, so a registry killed at any point and started again
/// has every acknowledged schema under the same id.
///
/// Writes run one at a time. Before each write the registry reads
/// whatever another registry on the same topic appended since, so two of
/// them do not hand out the same id one after the other; concurrent writers
/// are not coordinated beyond that (run one registry per topic for writes).
public actor SchemaRegistry {
    private let log: SchemaLog
    private let compatibility = SchemaCompatibility()
    private let logger: Logger
    /// What the topic held up to ``position``.
    public private(set) var state = RegistryState()
    private var position: Int64 = 0

    /// A registry on `topic` (Confluent's default: `_schemas`) of `kafka`'s cluster.
    public init(kafka: KafkaConfiguration, topic: String = "_schemas", logger: Logger) throws {
        self.log = try SchemaLog(configuration: kafka, topic: topic, logger: logger)
        self.logger = logger
    }

    /// Creates the topic if needed and reads it from the beginning.
    public func open() async throws {
        try await log.prepare()
        try await catchUp()
        logger.notice(
            "schema registry loaded from \(log.topic) up to offset \(position): \(state.subjectNames(includeDeleted: true).count) subjects, highest id \(state.maxID)")
    }

    public func close() async {
        await log.close()
    }

    private func catchUp() async throws {
        let (records, end) = try await log.read(from: position)
        for record in records { state.apply(record) }
        position = end
    }

    /// Set while a write is under way; later writers wait in ``waiters``.
    private var writing = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs one write alone: reads what other writers appended, plans with
    /// that state, appends the records (acks=all), applies them. Writes wait
    /// for each other because the actor is re-entered at every `await`: two
    /// registrations planned on the same state would take the same id.
    /// A Kafka failure is Confluent's 50001.
    private func exclusiveWrite<T: Sendable>(
        _ plan: (RegistryState) throws(RegistryError) -> (records: [RegistryRecord], result: T)
    ) async throws(RegistryError) -> T {
        if writing {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            writing = true
        }
        defer {
            // Hands the turn to the next writer, if any.
            if waiters.isEmpty { writing = false } else { waiters.removeFirst().resume() }
        }
        do {
            if try await log.end() > position { try await catchUp() }
        } catch {
            throw .store("\(error)")
        }
        let (records, result) = try plan(state)
        guard !records.isEmpty else { return result }
        do {
            let written = try await log.append(records)
            if written.lowerBound == position {
                for record in records { state.apply(record) }
                position = written.upperBound
            } else {
                // Another writer's records landed first: read them and ours, in the topic's order.
                try await catchUp()
            }
        } catch {
            throw .store("\(error)")
        }
        return result
    }

    // MARK: - Writes

    /// Registers `schema` under `subject` (idempotent), returning its version.
    public func register(_ schema: SchemaDefinition, subject: String) async throws(RegistryError) -> SubjectVersion {
        let compatibility = self.compatibility
        let (entry, isNew) = try await exclusiveWrite { state throws(RegistryError) in
            switch try state.planRegistration(schema, in: subject, compatibility: compatibility) {
            case .existing(let entry): return ([], (entry, false))
            case .new(let entry): return ([.schema(entry)], (entry, true))
            }
        }
        if isNew { logger.info("registered \(subject) version \(entry.version) as id \(entry.id)") }
        return entry
    }

    /// Deletes one version (soft, or `permanent` once soft-deleted); returns its number.
    public func deleteVersion(_ selector: VersionSelector, subject: String, permanent: Bool) async throws(RegistryError) -> Int {
        try await exclusiveWrite { state throws(RegistryError) in
            let plan = try state.planVersionDeletion(selector, of: subject, permanent: permanent)
            return ([plan.record], plan.version)
        }
    }

    /// Deletes a subject's versions (soft, or `permanent` once soft-deleted); returns their numbers.
    public func deleteSubject(_ subject: String, permanent: Bool) async throws(RegistryError) -> [Int] {
        try await exclusiveWrite { state throws(RegistryError) in
            let plan = try state.planSubjectDeletion(subject, permanent: permanent)
            return (plan.records, plan.versions)
        }
    }

    /// Sets the level of `subject` (nil: the global level); nil `level` removes it.
    public func setLevel(_ level: CompatibilityLevel?, subject: String?) async throws(RegistryError) {
        try await exclusiveWrite { _ in ([.config(subject: subject, level: level)], ()) }
    }

    /// The compatibility problems of `schema` against `version` of `subject` (nil: the versions its level names).
    public func compatibilityProblems(_ schema: SchemaDefinition, subject: String, version: VersionSelector?) throws(RegistryError) -> [String] {
        try state.compatibilityProblems(schema, in: subject, version: version, compatibility: compatibility)
    }
}
