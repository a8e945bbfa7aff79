import CMySQL

/// Reads a prepared statement's result set as text.
enum ResultReader {
    /// Bytes reserved per column before a long value is fetched again whole.
    private static let initialCapacity = 256

    /// Every row of the current result set, each column as text or nil for
    /// NULL; an empty array when the statement returned no result set.
    static func readAll(
        _ stmt: UnsafeMutablePointer<MYSQL_STMT>, context: String, onError: (MySQLError) -> MySQLError
    ) throws(MySQLError) -> [[String?]] {
        guard let metadata = mysql_stmt_result_metadata(stmt) else { return [] }
        let columns = Int(mysql_num_fields(metadata))
        mysql_free_result(metadata)
        defer { mysql_stmt_free_result(stmt) }

        let buffers = UnsafeMutablePointer<UInt8>.allocate(capacity: columns * initialCapacity)
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: columns)
        let nulls = UnsafeMutablePointer<my_bool>.allocate(capacity: columns)
        let errors = UnsafeMutablePointer<my_bool>.allocate(capacity: columns)
        defer {
            buffers.deallocate()
            lengths.deallocate()
            nulls.deallocate()
            errors.deallocate()
        }
        var binds = Array(repeating: MYSQL_BIND(), count: columns)
        for i in 0..<columns {
            binds[i].buffer_type = MYSQL_TYPE_STRING
            binds[i].buffer = UnsafeMutableRawPointer(buffers + i * initialCapacity)
            binds[i].buffer_length = UInt(initialCapacity)
            binds[i].length = lengths + i
            binds[i].is_null = nulls + i
            binds[i].error = errors + i
        }
        let bound = binds.withUnsafeMutableBufferPointer { mysql_stmt_bind_result(stmt, $0.baseAddress) == 0 }
        guard bound, mysql_stmt_store_result(stmt) == 0 else {
            throw onError(MySQLSession.error(of: stmt, context: context))
        }
        var rows: [[String?]] = []
        while true {
            let status = mysql_stmt_fetch(stmt)
            if status == MYSQL_NO_DATA { break }
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else {
                throw onError(MySQLSession.error(of: stmt, context: context))
            }
            var row: [String?] = []
            row.reserveCapacity(columns)
            for i in 0..<columns {
                if nulls[i] != 0 { row.append(nil); continue }
                let length = Int(lengths[i])
                if length <= initialCapacity {
                    row.append(String(decoding: UnsafeBufferPointer(start: buffers + i * initialCapacity, count: length), as: UTF8.self))
                } else {
                    row.append(try fetchLong(stmt, column: i, length: length, context: context, onError: onError))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Fetches a column that did not fit the initial buffer.
    private static func fetchLong(
        _ stmt: UnsafeMutablePointer<MYSQL_STMT>, column: Int, length: Int, context: String,
        onError: (MySQLError) -> MySQLError
    ) throws(MySQLError) -> String {
        var bytes = [UInt8](repeating: 0, count: length)
        var actual: UInt = 0
        let status = bytes.withUnsafeMutableBytes { raw -> Int32 in
            var bind = MYSQL_BIND()
            bind.buffer_type = MYSQL_TYPE_STRING
            bind.buffer = raw.baseAddress
            bind.buffer_length = UInt(length)
            return withUnsafeMutablePointer(to: &actual) { actualPointer in
                bind.length = actualPointer
                return mysql_stmt_fetch_column(stmt, &bind, UInt32(column), 0)
            }
        }
        guard status == 0 else { throw onError(MySQLSession.error(of: stmt, context: context)) }
        return String(decoding: bytes.prefix(Int(actual)), as: UTF8.self)
    }
}
