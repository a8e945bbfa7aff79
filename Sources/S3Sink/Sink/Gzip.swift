/// A streaming gzip (RFC 1952) writer with its own DEFLATE (RFC 1951)
/// encoder: LZ77 over a 32 KiB window, fixed Huffman codes.
///
/// Written here so the stage needs no zlib (which the package does not link);
/// fixed codes give most of the gain on JSON lines. Output depends only on
/// the sequence of `append` calls (no time stamp in the header), so a file
/// rebuilt from the same records is byte-identical to the first one.
struct GzipWriter {
    private var bits = BitWriter()
    private var crc = CRC32()
    private var inputSize: UInt32 = 0
    private var lz = LZ77Window()
    private var headerWritten = false

    /// Compresses `chunk`; returns the output bytes completed so far.
    mutating func append(_ chunk: [UInt8]) -> [UInt8] {
        writeHeaderIfNeeded()
        crc.update(chunk)
        inputSize = inputSize &+ UInt32(truncatingIfNeeded: chunk.count)
        if !chunk.isEmpty {
            // Each chunk is one non-final fixed-Huffman block; matches may
            // reach back into earlier chunks through the shared window.
            bits.write(0b010, count: 3)  // BFINAL=0, BTYPE=01
            lz.compress(chunk, into: &bits)
            bits.writeFixedLiteral(256)
        }
        return bits.takeBytes()
    }

    /// Ends the stream: an empty final block, then CRC-32 and size.
    mutating func finish() -> [UInt8] {
        writeHeaderIfNeeded()
        bits.write(0b011, count: 3)  // BFINAL=1, BTYPE=01
        bits.writeFixedLiteral(256)
        bits.alignToByte()
        var out = bits.takeBytes()
        for value in [crc.value, inputSize] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return out
    }

    /// gzip of `data` in one go.
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var writer = GzipWriter()
        return writer.append(data) + writer.finish()
    }

    private mutating func writeHeaderIfNeeded() {
        guard !headerWritten else { return }
        headerWritten = true
        // Magic, deflate, no flags, mtime 0 (deterministic), no extra flags, OS unknown.
        bits.appendBytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])
    }
}

/// LSB-first bit packing, as DEFLATE stores everything but Huffman codes.
struct BitWriter {
    private var buffer: UInt64 = 0
    private var count = 0
    private var bytes: [UInt8] = []

    mutating func write(_ value: UInt32, count bitCount: Int) {
        buffer |= UInt64(value) << UInt64(count)
        count += bitCount
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            count -= 8
        }
    }

    /// Huffman codes go most-significant bit first: reverse, then write.
    mutating func writeCode(_ code: UInt32, length: Int) {
        var reversed: UInt32 = 0
        var value = code
        for _ in 0..<length {
            reversed = (reversed << 1) | (value & 1)
            value >>= 1
        }
        write(reversed, count: length)
    }

    /// A literal/length symbol (0–287) in the fixed Huffman code.
    mutating func writeFixedLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(UInt32(0x30 + symbol), length: 8)
        case 144...255: writeCode(UInt32(0x190 + symbol - 144), length: 9)
        case 256...279: writeCode(UInt32(symbol - 256), length: 7)
        default: writeCode(UInt32(0xC0 + symbol - 280), length: 8)
        }
    }

    mutating func alignToByte() {
        if count > 0 { write(0, count: 8 - count) }
    }

    mutating func appendBytes(_ raw: [UInt8]) {
        precondition(count == 0, "raw bytes need byte alignment")
        bytes += raw
    }

    mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

/// LZ77 matching over the last 32 KiB with hash chains.
struct LZ77Window {
    private static let windowSize = 32 * 1024
    private static let hashBits = 15
    private static let maxChain = 48
    private static let minMatch = 3
    private static let maxMatch = 258

    private static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
        195, 227, 258,
    ]
    private static let lengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    /// Recent input; `base` is the stream position of `history[0]`.
    private var history: [UInt8] = []
    private var base = 0
    /// Stream position + 1 of the latest occurrence of each hash (0 = none).
    private var head = [Int](repeating: 0, count: 1 << hashBits)
    /// For a position p, the previous position + 1 with the same hash.
    private var previous = [Int](repeating: 0, count: windowSize)

    mutating func compress(_ chunk: [UInt8], into bits: inout BitWriter) {
        let start = history.count
        history += chunk
        var index = start
        while index < history.count {
            let (length, distance) = longestMatch(at: index)
            if length >= Self.minMatch {
                emitMatch(length: length, distance: distance, into: &bits)
                for position in index..<(index + length) { insert(position) }
                index += length
            } else {
                bits.writeFixedLiteral(Int(history[index]))
                insert(index)
                index += 1
            }
        }
        trim()
    }

    private func hash(at index: Int) -> Int? {
        guard index + 2 < history.count else { return nil }
        let value = Int(history[index]) << 16 | Int(history[index + 1]) << 8 | Int(history[index + 2])
        return ((value &* 2_654_435_761) >> 8) & ((1 << Self.hashBits) - 1)
    }

    private mutating func insert(_ index: Int) {
        guard let hash = hash(at: index) else { return }
        let position = base + index
        previous[position % Self.windowSize] = head[hash]
        head[hash] = position + 1
    }

    private func longestMatch(at index: Int) -> (Int, Int) {
        guard let hash = hash(at: index) else { return (0, 0) }
        let position = base + index
        let limit = min(Self.maxMatch, history.count - index)
        var candidate = head[hash]
        var best = (0, 0)
        var chain = Self.maxChain
        while candidate > 0 && chain > 0 {
            let earlier = candidate - 1
            let distance = position - earlier
            guard distance <= Self.windowSize, earlier >= base else { break }
            let other = earlier - base
            var length = 0
            while length < limit && history[other + length] == history[index + length] { length += 1 }
            if length > best.0 {
                best = (length, distance)
                if length == limit { break }
            }
            candidate = previous[earlier % Self.windowSize]
            chain -= 1
        }
        return best
    }

    private func emitMatch(length: Int, distance: Int, into bits: inout BitWriter) {
        var code = Self.lengthBase.count - 1
        while Self.lengthBase[code] > length { code -= 1 }
        bits.writeFixedLiteral(257 + code)
        if Self.lengthExtra[code] > 0 {
            bits.write(UInt32(length - Self.lengthBase[code]), count: Self.lengthExtra[code])
        }
        var distanceCode = Self.distanceBase.count - 1
        while Self.distanceBase[distanceCode] > distance { distanceCode -= 1 }
        bits.writeCode(UInt32(distanceCode), length: 5)
        if Self.distanceExtra[distanceCode] > 0 {
            bits.write(UInt32(distance - Self.distanceBase[distanceCode]), count: Self.distanceExtra[distanceCode])
        }
    }

    /// Keeps only the window; positions stay absolute through `base`.
    private mutating func trim() {
        let excess = history.count - Self.windowSize
        guard excess > Self.windowSize else { return }
        history.removeFirst(excess)
        base += excess
    }
}

/// CRC-32 (IEEE 802.3), as gzip's trailer wants.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }
    private var state: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: [UInt8]) {
        var crc = state
        for byte in bytes { crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        state = crc
    }

    var value: UInt32 { state ^ 0xFFFF_FFFF }
}
