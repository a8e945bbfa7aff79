import PipelineCore

/// `table.include.list` as Debezium reads it: each entry is a regular
/// expression matched against the whole `schema.table` name, case-insensitively;
/// an entry without regular-expression characters is an exact name
/// (its dots are literal), which must exist.
struct TableFilter: Sendable {
    let entries: [String]

    init(_ entries: [String]) {
        self.entries = entries
    }

    /// Characters that make an entry a regular expression rather than a name.
    static let metacharacters = Set("\\^$*+?()[]{}|")

    static func isPattern(_ entry: String) -> Bool { entry.contains { metacharacters.contains($0) } }

    /// Whether `name` (`schema.table`) is captured.
    func matches(_ name: String) -> Bool {
        entries.contains { entry in
            guard TableFilter.isPattern(entry) else { return entry == name }
            guard let regex = try? Regex(entry).ignoresCase() else { return false }
            return (try? regex.wholeMatch(in: name)) != nil
        }
    }

    /// The captured tables among `existing`, in name order. An exact name
    /// that does not exist is an error; so is an invalid expression.
    func resolve(among existing: [String]) throws -> [String] {
        for entry in entries {
            if TableFilter.isPattern(entry) {
                do {
                    _ = try Regex(entry)
                } catch {
                    throw PipelineError.config(key: "table.include.list", reason: "'\(entry)' is not a valid regular expression: \(error)")
                }
            } else if !existing.contains(entry) {
                throw PipelineError.config(key: "table.include.list", reason: "table \(entry) does not exist")
            }
        }
        return existing.filter(matches).sorted()
    }
}
