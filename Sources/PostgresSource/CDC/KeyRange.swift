/// One of `count` ranges of a table's primary key, so that one big table is
/// snapshotted on several connections that imported the same snapshot.
///
/// Range `i` has the keys from the one at row `rows × i / count` in key
/// order up to, not including, the one at row `rows × (i + 1) / count`. The
/// boundaries are subqueries the server evaluates in the snapshot, never
/// values read back and quoted, so they need no type handling and every
/// connection sees the same ones: consecutive ranges meet exactly, and every
/// row is in exactly one range.
struct KeyRange: Sendable {
    /// `"schema"."table"`.
    let table: String
    /// The primary key's columns, quoted, in the key's order.
    let key: [String]
    let index: Int
    let count: Int
    /// The table's rows in the snapshot.
    let rows: Int

    init(table: Relation, key: [String], index: Int, of count: Int, rows: Int) {
        self.table = SQL.quote(schema: table.namespace, table: table.name)
        self.key = key.map(SQL.quote)
        self.index = index
        self.count = count
        self.rows = rows
    }

    /// ` WHERE …` selecting the range's rows (empty for a single range).
    var whereClause: String {
        let columns = key.joined(separator: ", ")
        func boundary(_ i: Int) -> String {
            "(SELECT \(columns) FROM \(table) ORDER BY \(columns) OFFSET \(rows * i / count) LIMIT 1)"
        }
        var conditions: [String] = []
        if index > 0 { conditions.append("(\(columns)) >= \(boundary(index))") }
        if index < count - 1 { conditions.append("(\(columns)) < \(boundary(index + 1))") }
        return conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }
}
