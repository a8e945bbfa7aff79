/// How one store's copy of the table compares with Postgres: every row
/// exactly once, with its content, and nothing else.
struct Delivery: CustomStringConvertible {
    let store: String
    /// Rows or records seen, duplicates included.
    let total: Int
    let expectedCount: Int
    let missing: [Int64]
    /// index → how many times it was seen, for indexes seen more than once.
    let duplicated: [Int64: Int]
    /// Indexes Postgres does not have.
    let unknown: [Int64]
    /// Indexes whose email differs from Postgres's.
    let mismatched: [Int64]

    var isExactlyOnce: Bool { missing.isEmpty && duplicated.isEmpty && unknown.isEmpty && mismatched.isEmpty }

    init(store: String, rows: [(index: Int64, email: String)], expected: [Int64: String]) {
        self.store = store
        total = rows.count
        expectedCount = expected.count
        var seen: [Int64: Int] = [:]
        var unknown: [Int64] = [], mismatched: [Int64] = []
        for row in rows {
            seen[row.index, default: 0] += 1
            guard let email = expected[row.index] else {
                unknown.append(row.index)
                continue
            }
            if email != row.email { mismatched.append(row.index) }
        }
        missing = expected.keys.filter { seen[$0] == nil }.sorted()
        duplicated = seen.filter { $0.value > 1 }
        self.unknown = unknown.sorted()
        self.mismatched = mismatched.sorted()
    }

    var description: String {
        var parts = ["\(store): \(total) rows for \(expectedCount) in Postgres"]
        if !missing.isEmpty { parts.append("\(missing.count) missing (\(Self.sample(missing)))") }
        if !duplicated.isEmpty {
            let extra = duplicated.values.reduce(0) { $0 + $1 - 1 }
            let examples = duplicated.keys.sorted().prefix(8).map { "\($0)×\(duplicated[$0]!)" }.joined(separator: ", ")
            parts.append("\(duplicated.count) indexes duplicated, \(extra) extra rows (\(examples)…, "
                + "spanning \(duplicated.keys.min()!)…\(duplicated.keys.max()!))")
        }
        if !unknown.isEmpty { parts.append("\(unknown.count) not in Postgres (\(Self.sample(unknown)))") }
        if !mismatched.isEmpty { parts.append("\(mismatched.count) with other content (\(Self.sample(mismatched)))") }
        return parts.joined(separator: "; ")
    }

    private static func sample(_ indexes: [Int64]) -> String {
        indexes.prefix(8).map(String.init).joined(separator: ", ") + (indexes.count > 8 ? ", …" : "")
    }
}
