/// What a registry converter writes records of one Connect schema on one
/// topic with (an encoder, a header), made once: the registry is asked the
/// first time only.
final class RegistryWriteCache<Prepared: Sendable>: Sendable {
    private struct Key: Hashable {
        var topic: String
        var schema: Schema
    }

    private let entries = Locked([Key: Prepared]())

    /// The entry for `schema` on `topic`, made by `make` when there is none yet.
    func entry(topic: String, schema: Schema, make: () async throws -> Prepared) async throws -> Prepared {
        let key = Key(topic: topic, schema: schema)
        if let known = entries.withLock({ $0[key] }) { return known }
        let made = try await make()
        entries.withLock { entries in
            // Only pathological input has this many schemas: start over.
            if entries.count >= 256 { entries.removeAll() }
            entries[key] = made
        }
        return made
    }
}

extension RegistryConverterSettings {
    /// The id to write `schema` under `subject` with, as the settings say:
    /// the subject's latest version (`use.latest.version`, returned with its
    /// schema), or `schema` registered (`auto.register.schemas`) or looked up.
    func writerID(for schema: RegisteredSchema, subject: String, client: SchemaRegistryClient) async throws(SchemaRegistryError) -> (id: Int32, latest: RegisteredSchema?) {
        if useLatestVersion {
            let latest = try await client.latest(subject: subject)
            return (latest.id, latest.schema)
        }
        let id = autoRegister
            ? try await client.register(subject: subject, schema: schema)
            : try await client.lookup(subject: subject, schema: schema)
        return (id, nil)
    }
}
