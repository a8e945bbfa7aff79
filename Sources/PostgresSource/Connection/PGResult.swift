import CLibPQ

/// A query result (text format). Cells are read in place, without copying,
/// on the connection's thread; the result is freed with this object.
final class PGResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    var rowCount: Int { Int(PQntuples(handle)) }
    var columnCount: Int { Int(PQnfields(handle)) }

    func columnName(_ column: Int) -> String { String(cString: PQfname(handle, Int32(column))) }
    /// The column's type OID.
    func columnType(_ column: Int) -> UInt32 { PQftype(handle, Int32(column)) }
    /// The column's type modifier (e.g. numeric precision and scale), -1 if none.
    func columnModifier(_ column: Int) -> Int32 { PQfmod(handle, Int32(column)) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) == 1 }

    /// The cell's text bytes, valid while this result lives; nil for NULL.
    func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8>? {
        guard !isNull(row, column) else { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return PQgetvalue(handle, Int32(row), Int32(column)).withMemoryRebound(to: UInt8.self, capacity: length) {
            UnsafeBufferPointer(start: $0, count: length)
        }
    }

    /// The cell as a String; nil for NULL.
    func string(_ row: Int, _ column: Int) -> String? {
        bytes(row, column).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every cell as a String, for small catalog queries.
    var strings: [[String?]] {
        (0..<rowCount).map { row in (0..<columnCount).map { string(row, $0) } }
    }
}
