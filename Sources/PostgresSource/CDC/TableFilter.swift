import PipelineCore

/// Debezium's table selection: `table.include.list` / `table.exclude.list`
/// match the whole `schema.table` name, `schema.include.list` /
/// `schema.exclude.list` the schema. Each entry is a regular expression
/// matched whole and case-insensitively; an entry without
/// regular-expression characters is an exact name (its dots are literal),
/// and an included table named exactly must exist.
struct TableFilter: Sendable {
    var tables: [String] = []
    var excludedTables: [String] = []
    var schemas: [String] = []
    var excludedSchemas: [String] = []

    init(tables: [String] = [], excludedTables: [String] = [], schemas: [String] = [], excludedSchemas: [String] = []) {
        self.tables = tables
        self.excludedTables = excludedTables
        self.schemas = schemas
        self.excludedSchemas = excludedSchemas
    }

    /// The filter `config` asks for; nil when it selects nothing (then the publication's tables are captured).
    init?(_ config: PostgresCDCConfig) {
        self.init(tables: config.tables, excludedTables: config.excludedTables, schemas: config.schemas, excludedSchemas: config.excludedSchemas)
        if tables.isEmpty && excludedTables.isEmpty && schemas.isEmpty && excludedSchemas.isEmpty { return nil }
    }

    /// Characters that make an entry a regular expression rather than a name.
    static let metacharacters = Set("\\^$*+?()[]{}|")

    static func isPattern(_ entry: String) -> Bool { entry.contains { metacharacters.contains($0) } }

    static func matches(_ entries: [String], _ name: String) -> Bool {
        entries.contains { entry in
            guard isPattern(entry) else { return entry == name }
            guard let regex = try? Regex(entry).ignoresCase() else { return false }
            return (try? regex.wholeMatch(in: name)) != nil
        }
    }

    /// Whether `name` (`schema.table`) is captured.
    func matches(_ name: String) -> Bool {
        let schema = String(name.prefix { $0 != "." })
        if !schemas.isEmpty && !Self.matches(schemas, schema) { return false }
        if Self.matches(excludedSchemas, schema) { return false }
        if !tables.isEmpty && !Self.matches(tables, name) { return false }
        return !Self.matches(excludedTables, name)
    }

    /// The captured tables among `existing`, in name order. An included
    /// exact name that does not exist is an error; so is an invalid expression.
    func resolve(among existing: [String]) throws -> [String] {
        let lists = [("table.include.list", tables), ("table.exclude.list", excludedTables), ("schema.include.list", schemas), ("schema.exclude.list", excludedSchemas)]
        for (key, entries) in lists {
            for entry in entries where TableFilter.isPattern(entry) {
                do {
                    _ = try Regex(entry)
                } catch {
                    throw PipelineError.config(key: key, reason: "'\(entry)' is not a valid regular expression: \(error)")
                }
            }
        }
        for entry in tables where !TableFilter.isPattern(entry) && !existing.contains(entry) {
            throw PipelineError.config(key: "table.include.list", reason: "table \(entry) does not exist")
        }
        return existing.filter(matches).sorted()
    }
}
