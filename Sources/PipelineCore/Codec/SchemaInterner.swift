#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A schema known to the process, with an id and its Connect JSON made once.
///
/// Every record of a topic carries the same schema: interning it lets the
/// codec build per-schema writers and readers once instead of per record.
/// Two interned schemas are the same schema exactly when they are the same
/// object (`===`, or equal ids).
public final class InternedSchema: Sendable {
    /// Unique in this process, never reused.
    public let id: Int
    public let schema: Schema
    /// The schema as Connect's JsonConverter writes it (compact).
    public let json: [UInt8]
    /// The payload reader, for struct schemas of primitive and logical fields.
    let reader: PayloadReader?

    init(id: Int, schema: Schema) {
        self.id = id
        self.schema = schema
        self.json = ConnectJSON.schemaJSON(schema).serialized()
        self.reader = PayloadReader(schema)
    }
}

/// The process-wide registry of schemas (``InternedSchema``).
public final class SchemaInterner: Sendable {
    /// The interner every converter, writer and reader shares.
    public static let shared = SchemaInterner()

    private struct State {
        var bySchema: [Schema: InternedSchema] = [:]
        /// Texts seen, most recent first. Compared with memcmp, not hashed:
        /// hashing a 1 KB schema text byte by byte per message was 4% of a
        /// sink's CPU, and a topic has one or a few schemas.
        var byText: [(text: [UInt8], schema: InternedSchema)] = []
        var nextID = 1
    }

    private let state = Locked(State())
    /// Schemas kept; a topic has one or a few, so this only bounds
    /// pathological input (a full table starts over, ids stay unique).
    static let capacity = 256
    /// Schema texts kept.
    static let textCapacity = 16

    /// The interned form of `schema`.
    public func intern(_ schema: Schema) -> InternedSchema {
        if let hit = state.withLock({ $0.bySchema[schema] }) { return hit }
        return state.withLock { state in
            if let hit = state.bySchema[schema] { return hit }
            if state.bySchema.count >= SchemaInterner.capacity { state.bySchema.removeAll() }
            let interned = InternedSchema(id: state.nextID, schema: schema)
            state.nextID += 1
            state.bySchema[schema] = interned
            return interned
        }
    }

    /// The interned schema a Connect schema JSON text describes, or nil when
    /// it is not a valid Connect schema (the full decoder then says why).
    public func intern(json text: ArraySlice<UInt8>) -> InternedSchema? {
        if let hit = state.withLock({ state in state.byText.first { SchemaInterner.same($0.text, text) }?.schema }) { return hit }
        let key = Array(text)
        guard let json = try? JSON.parse(key), let schema = try? ConnectJSON.schema(from: json, path: "schema") else { return nil }
        let interned = intern(schema)
        state.withLock { state in
            if state.byText.count >= SchemaInterner.textCapacity { state.byText.removeLast() }
            state.byText.insert((key, interned), at: 0)
        }
        return interned
    }

    /// The payload of a compact envelope whose schema text is one seen
    /// before: compared with memcmp in place, sparing the byte-by-byte scan
    /// for the end of the schema (the largest codec cost left in a sink).
    /// The same ranges as ``EnvelopeSplitter/split(_:)``: a known text is one
    /// whole JSON object, so the scan would end exactly where it does.
    func knownEnvelope(_ bytes: [UInt8]) -> PayloadLocation? {
        let head = EnvelopeSplitter.head.count - 1, middle = EnvelopeSplitter.middle
        guard bytes.count > head + middle.count + 1, bytes.last == UInt8(ascii: "}"), bytes.starts(with: EnvelopeSplitter.head) else { return nil }
        return state.withLock { state in
            for entry in state.byText {
                let end = head + entry.text.count
                guard end + middle.count < bytes.count - 1, SchemaInterner.same(entry.text, bytes[head..<end]),
                    bytes[end..<(end + middle.count)].elementsEqual(middle)
                else { continue }
                return PayloadLocation(schema: entry.schema, range: (end + middle.count)..<(bytes.count - 1))
            }
            return nil
        }
    }

    static func same(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count, !a.isEmpty else { return a.count == b.count }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }
}
