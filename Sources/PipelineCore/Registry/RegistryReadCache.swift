/// The schemas a registry converter reads with: fetched by id once per
/// batch that needs them (``prefetch(_:)``, async), compiled once, then
/// looked up synchronously per message.
final class RegistryReadCache<Compiled: Sendable>: Sendable {
    let client: SchemaRegistryClient
    private let compile: @Sendable (RegisteredSchema, Int32) throws(CodecError) -> Compiled
    private let compiled = Locked([Int32: Result<Compiled, CodecError>]())

    init(client: SchemaRegistryClient, compile: @escaping @Sendable (RegisteredSchema, Int32) throws(CodecError) -> Compiled) {
        self.client = client
        self.compile = compile
    }

    /// Fetches and compiles the schemas of `payloads` not yet known. An id
    /// the registry does not have, or a schema that does not compile, is
    /// remembered as that message's error; a registry that cannot be
    /// reached throws, so the batch is tried again later.
    func prefetch(_ payloads: some Sequence<[UInt8]?>) async throws(SchemaRegistryError) {
        var wanted = Set<Int32>()
        for bytes in payloads {
            guard let bytes, let id = try? ConfluentWireFormat.schemaID(bytes) else { continue }
            wanted.insert(id)
        }
        let missing = compiled.withLock { known in wanted.filter { known[$0] == nil } }
        for id in missing {
            let result: Result<Compiled, CodecError>
            do {
                let registered = try await client.schema(id: id)
                let compile = self.compile
                result = Result { () throws(CodecError) in try compile(registered, id) }
            } catch where error.isNotFound {
                result = .failure(CodecError(path: "", reason: "schema id \(id) is not in the registry (\(error.message))"))
            }
            compiled.withLock { $0[id] = result }
        }
    }

    /// The compiled schema of a framed message (after ``prefetch(_:)``).
    func compiled(for bytes: [UInt8]) throws(CodecError) -> Compiled {
        let id = try ConfluentWireFormat.schemaID(bytes)
        guard let known = compiled.withLock({ $0[id] }) else {
            throw CodecError(path: "", reason: "schema id \(id) was not fetched from the registry")
        }
        return try known.get()
    }
}
