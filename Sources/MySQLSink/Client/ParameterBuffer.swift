import CMySQL
import PipelineCore

/// The `MYSQL_BIND` array for one execution of a prepared statement, and the
/// memory its pointers refer to.
///
/// All parameter bytes live in one arena, so binding 3,000 rows costs one
/// allocation instead of one per value. The arena must outlive
/// `mysql_stmt_execute`; the owner keeps this object alive until then.
final class ParameterBuffer {
    private(set) var binds: [MYSQL_BIND]
    private let arena: UnsafeMutableRawPointer

    init(_ values: [SQLValue]) {
        var size = 0
        for value in values { size += Self.align(Self.storageSize(value)) }
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 16)
        // Filled through one buffer pointer: subscripting the stored array
        // per value would check its uniqueness every time.
        var binds = [MYSQL_BIND](repeating: MYSQL_BIND(), count: values.count)
        var cursor = arena
        binds.withUnsafeMutableBufferPointer { binds in
            for (i, value) in values.enumerated() {
                Self.fill(&binds[i], value: value, at: cursor)
                cursor += Self.align(Self.storageSize(value))
            }
        }
        self.binds = binds
    }

    deinit { arena.deallocate() }

    /// Calls `body` with the bind array (only valid during the call).
    func withBinds<T>(_ body: (UnsafeMutablePointer<MYSQL_BIND>) -> T) -> T {
        binds.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    private static func align(_ n: Int) -> Int { (n + 15) & ~15 }

    private static func storageSize(_ value: SQLValue) -> Int {
        switch value {
        case .null: return 0
        case .int, .double: return 8
        case .text(let s): return s.utf8.count
        case .decimal(let s): return s.utf8.count
        case .bytes(let b): return b.count
        case .datetime, .date, .time: return MemoryLayout<MYSQL_TIME>.stride
        }
    }

    private static func fill(_ bind: inout MYSQL_BIND, value: SQLValue, at memory: UnsafeMutableRawPointer) {
        bind.buffer = memory
        switch value {
        case .null:
            // MYSQL_TYPE_NULL needs no buffer and no is_null flag.
            bind.buffer_type = MYSQL_TYPE_NULL
        case .int(let v):
            memory.storeBytes(of: v, as: Int64.self)
            bind.buffer_type = MYSQL_TYPE_LONGLONG
        case .double(let v):
            memory.storeBytes(of: v, as: Double.self)
            bind.buffer_type = MYSQL_TYPE_DOUBLE
        case .text(let s):
            bind.buffer_length = copy(s, to: memory)
            bind.buffer_type = MYSQL_TYPE_STRING
        case .decimal(let s):
            bind.buffer_length = copy(s, to: memory)
            bind.buffer_type = MYSQL_TYPE_NEWDECIMAL
        case .bytes(let b):
            bind.buffer_length = copy(b, to: memory)
            bind.buffer_type = MYSQL_TYPE_BLOB
        case .datetime(let ms):
            let t = CivilDateTime(epochMilliseconds: ms)
            store(t, type: MYSQL_TIMESTAMP_DATETIME, at: memory)
            bind.buffer_type = MYSQL_TYPE_DATETIME
        case .date(let days):
            store(CivilDateTime(daysSinceEpoch: Int64(days)), type: MYSQL_TIMESTAMP_DATE, at: memory)
            bind.buffer_type = MYSQL_TYPE_DATE
        case .time(let ms):
            // A TIME is a duration, not a date: no day, month or year.
            let magnitude = Int64(ms).magnitude
            // Whole days go in `day`: the binary protocol sends the hour in
            // one byte, so 555 hours in `hour` would arrive as 43.
            var t = CivilDateTime(epochMilliseconds: Int64(magnitude % 86_400_000))
            (t.year, t.month, t.day) = (0, 0, Int(magnitude / 86_400_000))
            store(t, type: MYSQL_TIMESTAMP_TIME, negative: ms < 0, at: memory)
            bind.buffer_type = MYSQL_TYPE_TIME
        }
    }

    /// A string's UTF-8 bytes, without the intermediate array `Array(s.utf8)`
    /// would allocate per value (native strings are contiguous UTF-8 already).
    private static func copy(_ string: String, to memory: UnsafeMutableRawPointer) -> UInt {
        if let count = string.utf8.withContiguousStorageIfAvailable({ source -> Int in
            if let base = source.baseAddress { memory.copyMemory(from: base, byteCount: source.count) }
            return source.count
        }) {
            return UInt(count)
        }
        return copy(Array(string.utf8), to: memory)
    }

    private static func copy(_ bytes: [UInt8], to memory: UnsafeMutableRawPointer) -> UInt {
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { memory.copyMemory(from: base, byteCount: source.count) }
        }
        return UInt(bytes.count)
    }

    private static func store(
        _ t: CivilDateTime, type: enum_mysql_timestamp_type, negative: Bool = false, at memory: UnsafeMutableRawPointer
    ) {
        var time = MYSQL_TIME()
        // In range: MySQLSession refuses values with an ``SQLValue/outOfRangeReason``.
        time.year = UInt32(t.year)
        time.month = UInt32(t.month)
        time.day = UInt32(t.day)
        time.hour = UInt32(t.hour)
        time.minute = UInt32(t.minute)
        time.second = UInt32(t.second)
        time.second_part = UInt(t.microsecond)
        time.neg = negative ? 1 : 0
        time.time_type = type
        memory.storeBytes(of: time, as: MYSQL_TIME.self)
    }
}
