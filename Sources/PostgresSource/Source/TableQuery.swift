/// The SQL a table (or custom query) is polled with, per mode.
///
/// Keys: incrementing `"id"`; timestamp `ts` (one column, or `COALESCE` of several);
/// timestamp+incrementing `(ts, "id")` compared as a row value. Every statement
/// appends two key columns after the value columns: the timestamp as text and
/// the incrementing value, so positions can be read from any row.
struct TableQuery: Sendable {
    let mode: PollingMode
    /// `"schema"."table"` or `(query) AS q`.
    let from: String
    /// Quoted value columns.
    let columns: [String]
    /// Quoted incrementing column.
    let incrementing: String?
    /// The timestamp expression and its type (`timestamp` or `timestamptz`).
    let timestamp: String?
    let timestampType: String?
    let delayMilliseconds: Int64
    let suffix: String?

    /// Rows strictly above `offset` (all rows when nil or without a row position). Appends parameters.
    func above(_ offset: SourceOffset?, _ parameters: inout [String?]) -> String? {
        guard let offset, offset.hasRowPosition else { return nil }
        switch mode {
        case .bulk: return nil
        case .incrementing:
            parameters.append(offset.incrementing.map(String.init))
            return "\(incrementing!) > $\(parameters.count)::bigint"
        case .timestamp:
            parameters.append(offset.timestamp)
            return "\(timestamp!) > $\(parameters.count)::\(timestampType!)"
        case .timestampIncrementing:
            parameters.append(offset.timestamp)
            parameters.append(offset.incrementing.map(String.init))
            return "(\(timestamp!), \(incrementing!)) > ($\(parameters.count - 1)::\(timestampType!), $\(parameters.count)::bigint)"
        }
    }

    /// Rows at or below `upper`.
    func atOrBelow(_ upper: SourceOffset, _ parameters: inout [String?]) -> String? {
        switch mode {
        case .bulk: return nil
        case .incrementing:
            parameters.append(upper.incrementing.map(String.init))
            return "\(incrementing!) <= $\(parameters.count)::bigint"
        case .timestamp:
            parameters.append(upper.timestamp)
            return "\(timestamp!) <= $\(parameters.count)::\(timestampType!)"
        case .timestampIncrementing:
            parameters.append(upper.timestamp)
            parameters.append(upper.incrementing.map(String.init))
            return "(\(timestamp!), \(incrementing!)) <= ($\(parameters.count - 1)::\(timestampType!), $\(parameters.count)::bigint)"
        }
    }

    /// Timestamp modes read only rows older than the delay, as Connect does.
    var settled: String? {
        guard mode.usesTimestamp else { return nil }
        return "\(timestamp!) < now() - interval '\(delayMilliseconds) milliseconds'"
    }

    var orderBy: String {
        switch mode {
        case .bulk: return ""
        case .incrementing: return " ORDER BY \(incrementing!)"
        case .timestamp: return " ORDER BY \(timestamp!)"
        case .timestampIncrementing: return " ORDER BY \(timestamp!), \(incrementing!)"
        }
    }

    /// The two key columns appended to every select list.
    var keyColumns: String {
        // Aliased: an unnamed cast would take the column's name and make ORDER BY ambiguous.
        "(\(timestamp ?? "NULL"))::text AS \"__tributary_ts\", (\(incrementing ?? "NULL"))::bigint AS \"__tributary_inc\""
    }

    static func whereClause(_ conditions: [String?]) -> String {
        let parts = conditions.compactMap { $0 }
        return parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ")
    }

    /// The probe: the last key among the next `limit` rows above `offset`, and
    /// the writers to wait for (see ``CommitFence``). One row: timestamp text,
    /// incrementing value (both NULL when no row), writers as a text array, and
    /// `fingerprint` evaluated (a column digest, see `Catalog.fingerprint`).
    func probe(above offset: SourceOffset?, limit: Int, scope: CommitFence.Scope, fingerprint: String) -> (String, [String?]) {
        var parameters: [String?] = []
        let conditions = TableQuery.whereClause([above(offset, &parameters), settled, nonNullKey])
        parameters.append(String(limit))
        let sql = """
            SELECT last.ts::text, last.inc::bigint, \(CommitFence.writersExpression(scope)), \(fingerprint)
            FROM (SELECT 1) AS one LEFT JOIN LATERAL (
              SELECT ts, inc FROM (
                SELECT \(timestamp ?? "NULL::text") AS ts, \(incrementing ?? "NULL::bigint") AS inc
                FROM \(from)\(conditions)\(orderBy) LIMIT $\(parameters.count)::bigint) AS page
              ORDER BY ts DESC, inc DESC LIMIT 1
            ) AS last ON true
            """
        return (sql, parameters)
    }

    /// Rows with a NULL incrementing value are never read (as in Connect).
    var nonNullKey: String? {
        mode.usesIncrementing ? "\(incrementing!) IS NOT NULL" : nil
    }

    /// The cursor query for the range `(offset, upper]` (bulk: the whole table).
    func range(above offset: SourceOffset?, upTo upper: SourceOffset?) -> (String, [String?]) {
        var parameters: [String?] = []
        let conditions = [above(offset, &parameters), upper.flatMap { atOrBelow($0, &parameters) }, nonNullKey]
        let sql = "SELECT \(columns.joined(separator: ", ")), \(keyColumns) FROM \(from)"
            + TableQuery.whereClause(conditions) + orderBy + (suffix.map { " " + $0 } ?? "")
        return (sql, parameters)
    }
}
