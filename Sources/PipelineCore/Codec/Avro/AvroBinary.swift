/// Avro's binary primitives: zig-zag varints, lengths, IEEE floats little-endian.
enum AvroBinary {
    static func writeLong(_ value: Int64, to out: inout [UInt8]) {
        var n = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
    }

    static func writeFloat(_ value: Float, to out: inout [UInt8]) {
        let bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
    }

    static func writeDouble(_ value: Double, to out: inout [UInt8]) {
        let bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
    }

    /// Length-prefixed bytes (also strings, as UTF-8).
    static func writeBytes(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        writeLong(Int64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }
}

/// Reads Avro's binary primitives from a buffer; every read is bounds-checked
/// and throws ``CodecError`` naming the byte offset on truncated or invalid data.
struct AvroCursor: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool { index == bytes.count }

    func error(_ path: String, _ reason: String) -> CodecError {
        CodecError(path: path, reason: "\(reason) at byte \(index) of \(bytes.count)")
    }

    mutating func readLong(_ path: String) throws(CodecError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.count else { throw error(path, "truncated Avro data") }
            let byte = bytes[index]
            index += 1
            guard shift < 64, shift < 63 || byte <= 1 else { throw error(path, "a varint longer than 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    mutating func readInt(_ path: String) throws(CodecError) -> Int32 {
        let value = try readLong(path)
        guard let int = Int32(exactly: value) else { throw error(path, "\(value) does not fit an Avro int") }
        return int
    }

    /// A length or count: non-negative and no longer than what is left when
    /// each item takes at least `minimumItemSize` bytes (which also stops
    /// huge allocations on corrupt input).
    mutating func readCount(_ path: String, minimumItemSize: Int = 1) throws(CodecError) -> Int {
        let value = try readLong(path)
        guard value >= 0 else { throw error(path, "negative length \(value)") }
        guard minimumItemSize == 0 || value <= Int64((bytes.count - index) / minimumItemSize) else {
            throw error(path, "truncated Avro data (length \(value))")
        }
        return Int(value)
    }

    mutating func readRaw(_ count: Int, _ path: String) throws(CodecError) -> UnsafeBufferPointer<UInt8> {
        guard count >= 0, count <= bytes.count - index else { throw error(path, "truncated Avro data") }
        defer { index += count }
        return UnsafeBufferPointer(rebasing: bytes[index..<(index + count)])
    }

    mutating func readBytes(_ path: String) throws(CodecError) -> [UInt8] {
        Array(try readRaw(try readCount(path), path))
    }

    mutating func readString(_ path: String) throws(CodecError) -> String {
        let raw = try readRaw(try readCount(path), path)
        guard let text = String(validating: raw, as: UTF8.self) else { throw error(path, "a string that is not UTF-8") }
        return text
    }

    mutating func readBoolean(_ path: String) throws(CodecError) -> Bool {
        let raw = try readRaw(1, path)
        switch raw[0] {
        case 0: return false
        case 1: return true
        default: throw error(path, "a boolean byte \(raw[0])")
        }
    }

    mutating func readFloat(_ path: String) throws(CodecError) -> Float {
        let raw = try readRaw(4, path)
        var bits: UInt32 = 0
        for i in 0..<4 { bits |= UInt32(raw[i]) << (8 * UInt32(i)) }
        return Float(bitPattern: bits)
    }

    mutating func readDouble(_ path: String) throws(CodecError) -> Double {
        let raw = try readRaw(8, path)
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(raw[i]) << (8 * UInt64(i)) }
        return Double(bitPattern: bits)
    }
}
