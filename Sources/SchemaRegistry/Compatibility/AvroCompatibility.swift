import PipelineCore

/// Whether a reader schema can read what a writer schema wrote, by Avro's
/// schema resolution rules (the Avro specification's "Schema Resolution"):
///
/// - the same primitive, or a promotion: int → long, float, double; long → float, double;
///   float → double; string ↔ bytes;
/// - records of the same name (or a reader alias of the writer's name): each reader field
///   is read from the writer's field of its name or aliases, or needs a default;
///   writer fields the reader lacks are skipped;
/// - enums of the same name: every writer symbol is a reader symbol, unless the reader has a default symbol;
/// - fixed of the same name and size; arrays and maps by their items and values;
/// - a writer union: each branch must be readable; a reader union: some branch must read the writer.
///
/// Logical types are not compared (a reader reads their physical types).
enum AvroCompatibility {
    /// What keeps `reader` from reading data written with `writer`, one line per rule broken.
    static func problems(reader: String, writer: String) -> [String] {
        let readerSchema: AvroSchema, writerSchema: AvroSchema
        do {
            readerSchema = try AvroSchema(parsing: reader)
            writerSchema = try AvroSchema(parsing: writer)
        } catch {
            return ["\(error)"]
        }
        var check = Check(reader: readerSchema, writer: writerSchema)
        check.compare(readerSchema.root, writerSchema.root, path: "/")
        return check.problems
    }

    private struct Check {
        let reader: AvroSchema
        let writer: AvroSchema
        var problems: [String] = []
        /// Named pairs under comparison: a recursive type is assumed to match itself.
        var inProgress = Set<String>()

        init(reader: AvroSchema, writer: AvroSchema) {
            self.reader = reader
            self.writer = writer
        }

        mutating func compare(_ readerType: AvroType, _ writerType: AvroType, path: String) {
            let r = reader.resolve(readerType), w = writer.resolve(writerType)
            if case .union(let branches) = w.kind {
                for (index, branch) in branches.enumerated() { compare(r, branch, path: "\(path)[\(index)]") }
                return
            }
            if case .union(let branches) = r.kind {
                let readable = branches.contains { branch in
                    var trial = Check(reader: reader, writer: writer)
                    trial.inProgress = inProgress
                    trial.compare(branch, w, path: path)
                    return trial.problems.isEmpty
                }
                if !readable { problems.append("\(path): no branch of the reader's union reads the writer's \(w.typeName)") }
                return
            }
            switch (r.kind, w.kind) {
            case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float), (.double, .double),
                (.bytes, .bytes), (.string, .string),
                (.long, .int), (.float, .int), (.double, .int), (.float, .long), (.double, .long), (.double, .float),
                (.bytes, .string), (.string, .bytes):
                return
            case (.array(let readerItems), .array(let writerItems)):
                compare(readerItems, writerItems, path: "\(path)items/")
            case (.map(let readerValues), .map(let writerValues)):
                compare(readerValues, writerValues, path: "\(path)values/")
            case (.fixed(let rf), .fixed(let wf)):
                guard sameName(rf.name, aliases: rf.aliases, wf.name, path: path) else { return }
                if rf.size != wf.size { problems.append("\(path): fixed \(rf.name) has size \(rf.size) in the reader, \(wf.size) in the writer") }
            case (.enumeration(let re), .enumeration(let we)):
                guard sameName(re.name, aliases: re.aliases, we.name, path: path) else { return }
                let missing = we.symbols.filter { !re.symbols.contains($0) }
                if !missing.isEmpty && re.defaultSymbol == nil {
                    problems.append("\(path): the reader's enum \(re.name) lacks the writer's symbols \(missing.joined(separator: ", ")) and has no default")
                }
            case (.record(let rr), .record(let wr)):
                guard sameName(rr.name, aliases: rr.aliases, wr.name, path: path) else { return }
                let pair = "\(rr.name.fullName)<-\(wr.name.fullName)"
                guard inProgress.insert(pair).inserted else { return }
                defer { inProgress.remove(pair) }
                for field in rr.fields {
                    let names = [field.name] + field.aliases
                    if let written = wr.fields.first(where: { names.contains($0.name) }) {
                        compare(field.type, written.type, path: "\(path)fields/\(field.name)/")
                    } else if field.defaultValue == nil {
                        problems.append("\(path)fields/\(field.name): the reader's field has no default and the writer does not write it")
                    }
                }
            default:
                problems.append("\(path): the reader's \(r.typeName) cannot read the writer's \(w.typeName)")
            }
        }

        /// Named types match by full name, by unqualified name, or by a reader alias.
        private mutating func sameName(_ readerName: AvroName, aliases: [String], _ writerName: AvroName, path: String) -> Bool {
            let aliasNames = aliases.map { AvroName(fullOrShort: $0, enclosing: readerName.namespace).fullName }
            if readerName.fullName == writerName.fullName || readerName.name == writerName.name || aliasNames.contains(writerName.fullName) {
                return true
            }
            problems.append("\(path): the reader's \(readerName) is not the writer's \(writerName) (nor an alias of it)")
            return false
        }
    }
}
