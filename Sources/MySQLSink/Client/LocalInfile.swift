import CMySQL

/// `LOAD DATA LOCAL INFILE` fed from memory.
///
/// The client option is on, so the server may ask for a local file; it is
/// answered only by ``LocalInfile``'s handler, which serves the bytes of the
/// statement in progress and refuses at any other time. No file on this
/// machine is ever read, whatever name the server asks for.
final class LocalInfile {
    /// The bytes of the LOAD DATA in progress; nil: refuse.
    fileprivate var data: [UInt8]?
    fileprivate var cursor = 0

    /// Answers the server's requests on `mysql` from now on.
    func install(on mysql: UnsafeMutablePointer<MYSQL>) {
        mysql_set_local_infile_handler(
            mysql,
            { pointer, _, userdata in
                pointer?.pointee = userdata
                guard let userdata else { return 1 }
                let source = Unmanaged<LocalInfile>.fromOpaque(userdata).takeUnretainedValue()
                return source.data == nil ? 1 : 0
            },
            { userdata, buffer, length in
                guard let userdata, let buffer else { return -1 }
                let source = Unmanaged<LocalInfile>.fromOpaque(userdata).takeUnretainedValue()
                guard let data = source.data else { return -1 }
                let count = min(Int(length), data.count - source.cursor)
                data.withUnsafeBytes { bytes in
                    if count > 0 { UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + source.cursor, byteCount: count) }
                }
                source.cursor += count
                return Int32(count)
            },
            { _ in },
            { _, buffer, length in
                let message = "LOAD DATA LOCAL is only served while the sink sends its own rows"
                if let buffer, length > 0 {
                    let bytes = Array(message.utf8.prefix(Int(length) - 1)) + [0]
                    bytes.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                }
                return Int32(CR_UNKNOWN_ERROR)
            },
            Unmanaged.passUnretained(self).toOpaque())
    }
}

extension MySQLSession {
    /// Runs `sql`, a `LOAD DATA LOCAL INFILE` statement, serving `data` as
    /// the file. Returns the rows loaded and the server's warning count.
    func loadData(_ sql: String, data: [UInt8]) throws(MySQLError) -> (rows: UInt64, warnings: UInt32) {
        let context = Self.summary(of: sql)
        let mysql = try connection(context: context)
        infile.data = data
        infile.cursor = 0
        defer { infile.data = nil }
        let status = sql.utf8CString.withUnsafeBufferPointer { mysql_real_query(mysql, $0.baseAddress, UInt($0.count - 1)) }
        guard status == 0 else { throw failure(Self.error(of: mysql, context: context)) }
        return (mysql_affected_rows(mysql), mysql_warning_count(mysql))
    }
}
