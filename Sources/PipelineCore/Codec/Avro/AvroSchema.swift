/// An Avro schema parsed from its JSON: the root type and every named type
/// it defines, by full name.
///
/// ```swift
/// let schema = try AvroSchema(parsing: #"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#)
/// schema.canonicalForm   // {"name":"User","type":"record","fields":[{"name":"id","type":"long"}]}
/// ```
public struct AvroSchema: Sendable, Hashable, CustomStringConvertible {
    /// The root type; named types after their first definition are references.
    public let root: AvroType
    /// Every named type (record, enum, fixed) the schema defines, by full name.
    public let namedTypes: [String: AvroType]

    /// Parses Avro schema JSON text.
    public init(parsing text: String) throws(AvroSchemaError) {
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw AvroSchemaError(path: "", reason: error.description)
        }
        try self.init(json: json)
    }

    /// Parses an Avro schema held as a JSON document.
    public init(json: JSON) throws(AvroSchemaError) {
        var parser = AvroSchemaParser()
        root = try parser.parse(json, namespace: nil, path: "")
        namedTypes = parser.named
    }

    /// A schema built in code (from a Connect schema, say). A named type may be
    /// written in full more than once if each copy is identical; references
    /// must name a type defined in the tree.
    public init(root: AvroType) throws(AvroSchemaError) {
        var named: [String: AvroType] = [:]
        try AvroSchema.collectNames(root, into: &named, path: "")
        try AvroSchema.checkReferences(root, named: named, path: "")
        self.root = root
        self.namedTypes = named
    }

    /// The definition behind `type` when it is a reference, else `type`.
    public func resolve(_ type: AvroType) -> AvroType {
        if case .reference(let name) = type.kind, let definition = namedTypes[name] { return definition }
        return type
    }

    /// Avro's Parsing Canonical Form: full names, no attributes beyond what
    /// parsing needs, a fixed attribute order, no whitespace. Two schemas
    /// that read and write bytes the same way have the same canonical form.
    public var canonicalForm: String {
        var seen = Set<String>()
        return AvroSchemaWriter.canonical(root, seen: &seen).text
    }

    /// The schema as JSON, with every attribute kept (doc, defaults,
    /// logical types, `connect.*`), attributes other than Avro's own sorted by name.
    public var json: JSON {
        var seen = Set<String>()
        return AvroSchemaWriter.full(root, namespace: nil, seen: &seen)
    }

    /// ``json`` as compact text: what a registry is sent.
    public var text: String { json.text }

    public var description: String { text }

    /// The 64-bit Rabin fingerprint (CRC-64-AVRO) of the canonical form, as
    /// Avro's single-object encoding uses it.
    public var fingerprint: UInt64 { AvroSchema.rabin(Array(canonicalForm.utf8)) }

    // MARK: - Building checks

    private static func collectNames(_ type: AvroType, into named: inout [String: AvroType], path: String) throws(AvroSchemaError) {
        if let full = type.fullName, !isReference(type) {
            if let existing = named[full], existing != type {
                throw AvroSchemaError(path: path, reason: "\(full) is defined twice, differently")
            }
            named[full] = type
        }
        switch type.kind {
        case .record(let record):
            for (i, field) in record.fields.enumerated() {
                try collectNames(field.type, into: &named, path: "\(path)fields[\(i)].")
            }
        case .array(let items): try collectNames(items, into: &named, path: "\(path)items.")
        case .map(let values): try collectNames(values, into: &named, path: "\(path)values.")
        case .union(let branches):
            for (i, branch) in branches.enumerated() { try collectNames(branch, into: &named, path: "\(path)[\(i)].") }
        default: break
        }
    }

    private static func checkReferences(_ type: AvroType, named: [String: AvroType], path: String) throws(AvroSchemaError) {
        switch type.kind {
        case .reference(let name) where named[name] == nil:
            throw AvroSchemaError(path: path, reason: "\(name) is not a defined type")
        case .record(let record):
            for (i, field) in record.fields.enumerated() {
                try checkReferences(field.type, named: named, path: "\(path)fields[\(i)].")
            }
        case .array(let items): try checkReferences(items, named: named, path: "\(path)items.")
        case .map(let values): try checkReferences(values, named: named, path: "\(path)values.")
        case .union(let branches):
            try AvroSchemaParser.checkUnion(branches, path: path)
            for (i, branch) in branches.enumerated() { try checkReferences(branch, named: named, path: "\(path)[\(i)].") }
        default: break
        }
    }

    private static func isReference(_ type: AvroType) -> Bool {
        if case .reference = type.kind { return true }
        return false
    }

    // MARK: - Fingerprint

    private static let rabinEmpty: UInt64 = 0xc15d_213a_a4d7_a795
    private static let rabinTable: [UInt64] = (0..<256).map { i in
        var fp = UInt64(i)
        for _ in 0..<8 { fp = (fp >> 1) ^ (rabinEmpty & (0 &- (fp & 1))) }
        return fp
    }

    static func rabin(_ bytes: [UInt8]) -> UInt64 {
        var fp = rabinEmpty
        for byte in bytes { fp = (fp >> 8) ^ rabinTable[Int((fp ^ UInt64(byte)) & 0xff)] }
        return fp
    }
}

/// An Avro schema JSON that is not a valid schema.
public struct AvroSchemaError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Where in the schema, e.g. `fields[2].type.`; empty at the root.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? "invalid Avro schema: \(reason)" : "invalid Avro schema at \(path.hasSuffix(".") ? String(path.dropLast()) : path): \(reason)"
    }
}
