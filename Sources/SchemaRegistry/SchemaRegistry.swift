import Logging
import PipelineCore

/// A schema registry kept in a Kafka topic: the state is rebuilt from the
/// topic at ``open()``, and every write is appended to the topic (acks=all)
/// before it is applied, so a registry killed at any point and started again
/// has every acknowledged schema under the same id.
///
/// Writes are serialized by the actor. Before each write the registry reads
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

    /// Appends `records` and applies them; a Kafka failure is Confluent's 50001.
    private func write(_ records: [RegistryRecord]) async throws(RegistryError) {
        guard !records.isEmpty else { return }
        do {
            let end = try await log.append(records)
            for record in records { state.apply(record) }
            position = max(position, end)
        } catch {
            throw .store("\(error)")
        }
    }

    /// Reads what other writers appended, then plans with the fresh state.
    private func fresh() async throws(RegistryError) -> RegistryState {
        do {
            if try await log.end() > position { try await catchUp() }
        } catch {
            throw .store("\(error)")
        }
        return state
    }

    // MARK: - Writes

    /// Registers `schema` under `subject` (idempotent), returning its version.
    public func register(_ schema: SchemaDefinition, subject: String) async throws(RegistryError) -> SubjectVersion {
        switch try await fresh().planRegistration(schema, in: subject, compatibility: compatibility) {
        case .existing(let entry):
            return entry
        case .new(let entry):
            try await write([.schema(entry)])
            logger.info("registered \(subject) version \(entry.version) as id \(entry.id)")
            return entry
        }
    }

    /// Deletes one version (soft, or `permanent` once soft-deleted); returns its number.
    public func deleteVersion(_ selector: VersionSelector, subject: String, permanent: Bool) async throws(RegistryError) -> Int {
        let plan = try await fresh().planVersionDeletion(selector, of: subject, permanent: permanent)
        try await write([plan.record])
        return plan.version
    }

    /// Deletes a subject's versions (soft, or `permanent` once soft-deleted); returns their numbers.
    public func deleteSubject(_ subject: String, permanent: Bool) async throws(RegistryError) -> [Int] {
        let plan = try await fresh().planSubjectDeletion(subject, permanent: permanent)
        try await write(plan.records)
        return plan.versions
    }

    /// Sets the level of `subject` (nil: the global level); nil `level` removes the subject's own.
    public func setLevel(_ level: CompatibilityLevel?, subject: String?) async throws(RegistryError) {
        _ = try await fresh()
        try await write([.config(subject: subject, level: level)])
    }

    /// The compatibility problems of `schema` against `version` of `subject` (nil: the versions its level names).
    public func compatibilityProblems(_ schema: SchemaDefinition, subject: String, version: VersionSelector?) throws(RegistryError) -> [String] {
        try state.compatibilityProblems(schema, in: subject, version: version, compatibility: compatibility)
    }
}
