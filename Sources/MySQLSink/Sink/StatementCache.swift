import PipelineCore

/// The SQL text of the sink's writes, built once per row shape.
///
/// A shape (``RowPlan``'s id) fixes the table, the operation and the columns,
/// so the text of a multi-row INSERT depends only on the shape and the row
/// count; rebuilding it per statement cost more than binding the values. The
/// text is also the key of the session's prepared-statement cache, so equal
/// text means the handle prepared by the previous batch is reused. The text
/// lists the plan's columns, never the table's, so a column added by
/// `auto.evolve` does not change it; the server re-prepares a handle whose
/// table changed (ER_NEED_REPREPARE, handled by ``MySQLSession``).
final class StatementCache: Sendable {
    enum Kind: Hashable {
        case insert(rows: Int)
        case upsert(rows: Int)
        case update
        case delete
        /// `LOAD DATA LOCAL INFILE` of the columns (insert mode).
        case loadData
    }

    private struct Key: Hashable {
        let shape: Int
        let kind: Kind
    }

    /// Texts by shape and kind; nil: an UPDATE with nothing but the key.
    private let texts = Locked<[Key: String?]>([:])
    /// Only pathological input has this many shapes and tails: start over.
    static let limit = 4096

    /// How many texts were built (not found): lets tests see reuse.
    var built: Int { counter.value }
    private let counter = Locked(0)

    /// The text for `kind` of rows shaped like `row`.
    func sql(_ kind: Kind, for row: SinkRow) -> String? {
        let key = Key(shape: row.shape, kind: kind)
        if let known = texts.withLock({ $0[key] }) { return known }
        let text: String?
        switch kind {
        case .insert(let rows): text = StatementBuilder.insert(row.table, columns: row.columns, rows: rows, upsert: false)
        case .upsert(let rows): text = StatementBuilder.insert(row.table, columns: row.columns, rows: rows, upsert: true)
        case .update: text = StatementBuilder.update(row.table, columns: row.columns)
        case .delete: text = StatementBuilder.delete(row.table, keys: row.columns)
        case .loadData: text = StatementBuilder.loadData(row.table, columns: row.columns)
        }
        texts.withLock { texts in
            if texts.count >= Self.limit { texts.removeAll() }
            texts[key] = .some(text)
        }
        counter.withLock { $0 += 1 }
        return text
    }
}
