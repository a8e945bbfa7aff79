/// Writes ``AvroType`` trees back to JSON: Parsing Canonical Form, or the
/// full form with every attribute.
enum AvroSchemaWriter {
    /// Parsing Canonical Form: primitives as bare names, full names, only
    /// `name, type, fields, symbols, items, values, size` in that order, and
    /// each named type in full only where it first appears.
    static func canonical(_ type: AvroType, seen: inout Set<String>) -> JSON {
        switch type.kind {
        case .null, .boolean, .int, .long, .float, .double, .bytes, .string:
            return .string(type.typeName)
        case .reference(let name):
            return .string(name)
        case .array(let items):
            return .object([("type", .string("array")), ("items", canonical(items, seen: &seen))])
        case .map(let values):
            return .object([("type", .string("map")), ("values", canonical(values, seen: &seen))])
        case .union(let branches):
            return .array(branches.map { canonical($0, seen: &seen) })
        case .record(let record):
            guard seen.insert(record.name.fullName).inserted else { return .string(record.name.fullName) }
            let fields: [JSON] = record.fields.map {
                .object([("name", .string($0.name)), ("type", canonical($0.type, seen: &seen))])
            }
            return .object([("name", .string(record.name.fullName)), ("type", .string("record")), ("fields", .array(fields))])
        case .enumeration(let e):
            guard seen.insert(e.name.fullName).inserted else { return .string(e.name.fullName) }
            return .object([
                ("name", .string(e.name.fullName)), ("type", .string("enum")),
                ("symbols", .array(e.symbols.map { .string($0) })),
            ])
        case .fixed(let f):
            guard seen.insert(f.name.fullName).inserted else { return .string(f.name.fullName) }
            return .object([("name", .string(f.name.fullName)), ("type", .string("fixed")), ("size", .int(Int64(f.size)))])
        }
    }

    /// The full form: Avro's attributes in the usual order, then the other
    /// properties sorted by name. Names are short with a `namespace` where it
    /// differs from the enclosing one.
    static func full(_ type: AvroType, namespace: String?, seen: inout Set<String>) -> JSON {
        var members: [(String, JSON)] = []
        switch type.kind {
        case .null, .boolean, .int, .long, .float, .double, .bytes, .string:
            if type.logicalType == nil && type.properties.isEmpty { return .string(type.typeName) }
            members.append(("type", .string(type.typeName)))
        case .reference(let name):
            if type.properties.isEmpty { return .string(shortened(name, in: namespace)) }
            members.append(("type", .string(shortened(name, in: namespace))))
        case .union(let branches):
            return .array(branches.map { full($0, namespace: namespace, seen: &seen) })
        case .array(let items):
            members = [("type", .string("array")), ("items", full(items, namespace: namespace, seen: &seen))]
        case .map(let values):
            members = [("type", .string("map")), ("values", full(values, namespace: namespace, seen: &seen))]
        case .record(let record):
            guard seen.insert(record.name.fullName).inserted else { return .string(shortened(record.name.fullName, in: namespace)) }
            members = [("type", .string(record.isError ? "error" : "record"))]
            appendName(record.name, doc: record.doc, aliases: record.aliases, enclosing: namespace, to: &members)
            let fields: [JSON] = record.fields.map { field in
                var f: [(String, JSON)] = [("name", .string(field.name)), ("type", full(field.type, namespace: record.name.namespace, seen: &seen))]
                if let doc = field.doc { f.append(("doc", .string(doc))) }
                if let value = field.defaultValue { f.append(("default", value)) }
                if let order = field.order { f.append(("order", .string(order))) }
                if !field.aliases.isEmpty { f.append(("aliases", .array(field.aliases.map { .string($0) }))) }
                appendProperties(field.properties, to: &f)
                return .object(f)
            }
            members.append(("fields", .array(fields)))
        case .enumeration(let e):
            guard seen.insert(e.name.fullName).inserted else { return .string(shortened(e.name.fullName, in: namespace)) }
            members = [("type", .string("enum"))]
            appendName(e.name, doc: e.doc, aliases: e.aliases, enclosing: namespace, to: &members)
            members.append(("symbols", .array(e.symbols.map { .string($0) })))
            if let d = e.defaultSymbol { members.append(("default", .string(d))) }
        case .fixed(let f):
            guard seen.insert(f.name.fullName).inserted else { return .string(shortened(f.name.fullName, in: namespace)) }
            members = [("type", .string("fixed"))]
            appendName(f.name, doc: f.doc, aliases: f.aliases, enclosing: namespace, to: &members)
            members.append(("size", .int(Int64(f.size))))
        }
        if let logical = type.logicalType {
            members.append(("logicalType", .string(logical.name)))
            if case .decimal(let precision, let scale) = logical {
                members.append(("precision", .int(Int64(precision))))
                members.append(("scale", .int(Int64(scale))))
            }
        }
        appendProperties(type.properties, to: &members)
        return .object(members)
    }

    private static func appendName(_ name: AvroName, doc: String?, aliases: [String], enclosing: String?, to members: inout [(String, JSON)]) {
        members.append(("name", .string(name.name)))
        if name.namespace != enclosing { members.append(("namespace", .string(name.namespace ?? ""))) }
        if let doc { members.append(("doc", .string(doc))) }
        if !aliases.isEmpty { members.append(("aliases", .array(aliases.map { .string($0) }))) }
    }

    private static func appendProperties(_ properties: [String: JSON], to members: inout [(String, JSON)]) {
        for key in properties.keys.sorted() { members.append((key, properties[key]!)) }
    }

    /// A reference written short when it is in the enclosing namespace.
    /// A short name that is also a primitive's name must stay full.
    private static func shortened(_ fullName: String, in namespace: String?) -> String {
        guard let namespace, fullName.hasPrefix(namespace + ".") else { return fullName }
        let short = String(fullName.dropFirst(namespace.count + 1))
        if short.contains(".") || AvroSchemaParser.primitives[short] != nil { return fullName }
        return short
    }
}
