/// Everything the registry knows, rebuilt by applying the `_schemas`
/// records in order; the queries and the plans for writes. Pure: no I/O, so
/// every rule is unit-tested without Kafka. A write is planned here (the
/// records it takes, or the error it is), the records are written to Kafka,
/// and only then applied.
public struct RegistryState: Sendable {
    /// Subject → version → entry, soft-deleted versions included.
    private(set) var subjects: [String: [Int: SubjectVersion]] = [:]
    private var schemasByID: [Int: SchemaDefinition] = [:]
    private var idsBySchema: [SchemaDefinition: Int] = [:]
    /// The highest id ever applied: ids are never handed out twice.
    private(set) var maxID = 0
    private var globalLevel: CompatibilityLevel?
    private var subjectLevels: [String: CompatibilityLevel] = [:]

    public init() {}

    // MARK: - Applying records

    public mutating func apply(_ record: RegistryRecord) {
        switch record {
        case .schema(let entry):
            subjects[entry.subject, default: [:]][entry.version] = entry
            schemasByID[entry.id] = entry.schema
            if idsBySchema[entry.schema] == nil { idsBySchema[entry.schema] = entry.id }
            maxID = max(maxID, entry.id)
        case .schemaRemoved(let subject, let version):
            guard let removed = subjects[subject]?.removeValue(forKey: version) else { return }
            if subjects[subject]?.isEmpty == true { subjects[subject] = nil }
            forgetIfUnused(removed.id)
        case .config(let subject?, let level):
            subjectLevels[subject] = level
        case .config(nil, let level):
            globalLevel = level
        case .deleteSubject(let subject, let upTo):
            for (version, var entry) in subjects[subject] ?? [:] where version <= upTo && !entry.deleted {
                entry.deleted = true
                subjects[subject]?[version] = entry
            }
        case .clearSubject(let subject):
            for (version, entry) in subjects[subject] ?? [:] where entry.deleted {
                subjects[subject]?[version] = nil
                forgetIfUnused(entry.id)
            }
            if subjects[subject]?.isEmpty == true { subjects[subject] = nil }
        case .noop:
            break
        }
    }

    /// Drops an id no version uses any more (its last version was deleted permanently).
    private mutating func forgetIfUnused(_ id: Int) {
        let used = subjects.values.contains { $0.values.contains { $0.id == id } }
        guard !used, let schema = schemasByID.removeValue(forKey: id) else { return }
        if idsBySchema[schema] == id { idsBySchema[schema] = nil }
    }

    // MARK: - Queries

    /// Subject names with a live version (or any version, with `includeDeleted`), sorted.
    public func subjectNames(includeDeleted: Bool = false) -> [String] {
        subjects.filter { includeDeleted || $0.value.values.contains { !$0.deleted } }.keys.sorted()
    }

    /// The version numbers of `subject`, ascending; 40401 when it has none.
    public func versions(of subject: String, includeDeleted: Bool = false) throws(RegistryError) -> [Int] {
        let numbers = entries(subject, includeDeleted: includeDeleted).map(\.version)
        guard !numbers.isEmpty else { throw .subjectNotFound(subject) }
        return numbers
    }

    /// One version; 40401 for an unknown subject, 40402 for an unknown version.
    public func version(_ selector: VersionSelector, of subject: String, includeDeleted: Bool = false) throws(RegistryError) -> SubjectVersion {
        let all = entries(subject, includeDeleted: includeDeleted)
        guard let latest = all.last else { throw .subjectNotFound(subject) }
        switch selector {
        case .latest:
            return latest
        case .number(let number):
            guard let entry = all.first(where: { $0.version == number }) else { throw .versionNotFound(subject, number) }
            return entry
        }
    }

    /// The schema with global id `id`; 40403 when none has it.
    public func schema(id: Int) throws(RegistryError) -> SchemaDefinition {
        guard let schema = schemasByID[id] else { throw .schemaNotFound("Schema \(id) not found") }
        return schema
    }

    /// Every (subject, version) holding schema `id`, soft-deleted ones only with `includeDeleted`.
    public func usages(of id: Int, includeDeleted: Bool = false) throws(RegistryError) -> [SubjectVersion] {
        _ = try schema(id: id)
        return subjects.keys.sorted().flatMap { entries($0, includeDeleted: includeDeleted).filter { $0.id == id } }
    }

    /// The version of `subject` holding `schema` (POST /subjects/{s}): 40401 or 40403 when none does.
    public func lookup(_ schema: SchemaDefinition, in subject: String, includeDeleted: Bool = false) throws(RegistryError) -> SubjectVersion {
        let all = entries(subject, includeDeleted: includeDeleted)
        guard !all.isEmpty else { throw .subjectNotFound(subject) }
        guard let match = all.last(where: { $0.schema == schema }) else { throw .schemaNotFound() }
        return match
    }

    /// The level configured for `subject` (nil: the global one), or nil when none is.
    public func configuredLevel(_ subject: String?) -> CompatibilityLevel? {
        subject.map { subjectLevels[$0] } ?? globalLevel
    }

    /// The level a subject's new versions are checked with.
    public func effectiveLevel(_ subject: String?) -> CompatibilityLevel {
        subject.flatMap { subjectLevels[$0] } ?? globalLevel ?? .defaultLevel
    }

    private func entries(_ subject: String, includeDeleted: Bool) -> [SubjectVersion] {
        (subjects[subject] ?? [:]).values.filter { includeDeleted || !$0.deleted }.sorted { $0.version < $1.version }
    }

    // MARK: - Planning writes

    /// What registering `schema` under `subject` takes.
    public enum Registration: Sendable, Equatable {
        /// Already a live version of the subject: nothing to write.
        case existing(SubjectVersion)
        /// A new version to write.
        case new(SubjectVersion)
    }

    /// Plans `POST /subjects/{s}/versions`: the same schema again is the same
    /// version and id; a schema registered under another subject keeps its
    /// id; a new one gets the next id. Referenced versions must exist;
    /// `compatibility` names each rule the schema breaks against the
    /// versions the subject's level compares it with (409 when any).
    public func planRegistration(
        _ schema: SchemaDefinition, in subject: String, compatibility: SchemaCompatibility
    ) throws(RegistryError) -> Registration {
        let live = entries(subject, includeDeleted: false)
        if let existing = live.last(where: { $0.schema == schema }) { return .existing(existing) }
        try checkReferences(schema)
        let reasons = compatibility.problems(schema, against: live.map(\.schema), level: effectiveLevel(subject))
        guard reasons.isEmpty else { throw .incompatible(subject, reasons) }
        let next = (subjects[subject]?.keys.max() ?? 0) + 1
        return .new(SubjectVersion(subject: subject, version: next, id: idsBySchema[schema] ?? maxID + 1, schema: schema))
    }

    /// `POST /compatibility/subjects/{s}/versions/{v}` (one version) or `…/versions` (nil: those the level names):
    /// the rules `schema` would break; 40401/40402 when the version is unknown.
    public func compatibilityProblems(
        _ schema: SchemaDefinition, in subject: String, version: VersionSelector?, compatibility: SchemaCompatibility
    ) throws(RegistryError) -> [String] {
        try checkReferences(schema)
        let level = effectiveLevel(subject)
        guard let version else {
            return compatibility.problems(schema, against: entries(subject, includeDeleted: false).map(\.schema), level: level)
        }
        let existing: SubjectVersion
        do {
            existing = try self.version(version, of: subject)
        } catch where error.code == 40401 && version == .latest {
            // Confluent: nothing registered yet is compatible with anything.
            return []
        }
        return compatibility.problems(schema, against: [existing.schema], level: level)
    }

    private func checkReferences(_ schema: SchemaDefinition) throws(RegistryError) {
        for reference in schema.references where subjects[reference.subject]?[reference.version] == nil {
            throw .invalidSchema("reference \(reference.name) names subject '\(reference.subject)' version \(reference.version), which does not exist")
        }
    }

    /// Plans `DELETE /subjects/{s}/versions/{v}`: the record and the version it deletes.
    /// Soft first (40406 when already soft-deleted), then `permanent` (40407 when not soft-deleted first).
    public func planVersionDeletion(
        _ selector: VersionSelector, of subject: String, permanent: Bool
    ) throws(RegistryError) -> (record: RegistryRecord, version: Int) {
        if !permanent, case .number(let number) = selector, subjects[subject]?[number]?.deleted == true {
            throw .versionSoftDeleted(subject, number)
        }
        let entry = try version(selector, of: subject, includeDeleted: permanent)
        if permanent {
            guard entry.deleted else { throw .versionNotSoftDeleted(subject, entry.version) }
            return (.schemaRemoved(subject: subject, version: entry.version), entry.version)
        }
        var deleted = entry
        deleted.deleted = true
        return (.schema(deleted), entry.version)
    }

    /// Plans `DELETE /subjects/{s}`: the records and the versions deleted.
    /// Soft: every live version (40404 when all are soft-deleted already);
    /// `permanent`: every version, once soft-deleted (40405 otherwise), and the subject's level.
    public func planSubjectDeletion(_ subject: String, permanent: Bool) throws(RegistryError) -> (records: [RegistryRecord], versions: [Int]) {
        let all = entries(subject, includeDeleted: true)
        guard let latest = all.last else { throw .subjectNotFound(subject) }
        let live = all.filter { !$0.deleted }
        if permanent {
            guard live.isEmpty else { throw .subjectNotSoftDeleted(subject) }
            var records = all.map { RegistryRecord.schemaRemoved(subject: subject, version: $0.version) }
            if subjectLevels[subject] != nil { records.append(.config(subject: subject, level: nil)) }
            return (records, all.map(\.version))
        }
        guard !live.isEmpty else { throw .subjectSoftDeleted(subject) }
        return ([.deleteSubject(subject: subject, version: latest.version)], live.map(\.version))
    }
}
