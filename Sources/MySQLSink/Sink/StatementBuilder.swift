/// The SQL text of the sink's writes: identifiers quoted, every value a `?`.
enum StatementBuilder {
    /// A multi-row INSERT of `rows` rows; with `upsert`, `ON DUPLICATE KEY
    /// UPDATE` sets every non-key column from the new row.
    static func insert(_ table: TableRef, columns: [ColumnSpec], rows: Int, upsert: Bool) -> String {
        let names = columns.map { SQLIdentifier.quote($0.name) }
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        var sql = "INSERT INTO \(table.sql) (\(names.joined(separator: ","))) VALUES "
        sql += Array(repeating: tuple, count: rows).joined(separator: ",")
        if upsert {
            var updates = columns.filter { !$0.isPrimaryKey }.map { SQLIdentifier.quote($0.name) }.map { "\($0)=VALUES(\($0))" }
            // Only key columns: nothing to update, but the duplicate must still
            // not be an error. Assigning a key column to itself changes nothing.
            if updates.isEmpty, let first = names.first { updates = ["\(first)=\(first)"] }
            sql += " ON DUPLICATE KEY UPDATE " + updates.joined(separator: ",")
        }
        return sql
    }

    /// `UPDATE t SET a=?,b=? WHERE k1=? AND k2=?`; values bind non-key
    /// columns first, then keys. Nil when there is nothing but the key.
    static func update(_ table: TableRef, columns: [ColumnSpec]) -> String? {
        let sets = columns.filter { !$0.isPrimaryKey }.map { SQLIdentifier.quote($0.name) + "=?" }
        guard !sets.isEmpty else { return nil }
        return "UPDATE \(table.sql) SET \(sets.joined(separator: ",")) WHERE " + keyCondition(columns.filter(\.isPrimaryKey))
    }

    /// `LOAD DATA LOCAL INFILE` of rows in ``LoadDataEncoder``'s format into
    /// `columns`. The file name is never opened: the session serves its data.
    static func loadData(_ table: TableRef, columns: [ColumnSpec]) -> String {
        let names = columns.map { SQLIdentifier.quote($0.name) }.joined(separator: ",")
        return "LOAD DATA LOCAL INFILE 'tributary-rows' INTO TABLE \(table.sql) CHARACTER SET binary (\(names))"
    }

    /// `DELETE FROM t WHERE k1=? AND k2=?`.
    static func delete(_ table: TableRef, keys: [ColumnSpec]) -> String {
        "DELETE FROM \(table.sql) WHERE " + keyCondition(keys)
    }

    private static func keyCondition(_ keys: [ColumnSpec]) -> String {
        keys.map { SQLIdentifier.quote($0.name) + "=?" }.joined(separator: " AND ")
    }
}
