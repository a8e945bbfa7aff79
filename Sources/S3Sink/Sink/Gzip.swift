import CZlib

/// A streaming gzip (RFC 1952) writer over zlib's deflate.
///
/// zlib replaced a hand-written DEFLATE (LZ77 with fixed Huffman codes):
/// on a 3.5 MB object of JSON lines, level 6 made it 23% smaller and 1.6
/// times faster, level 1 10% smaller and 5 times faster (BENCHMARKS.md).
/// Output depends only on the bytes appended and the level (the header has
/// no name and mtime 0), so an object rebuilt from the same records is
/// byte-identical to the first one.
final class GzipWriter {
    /// Heap-allocated: zlib keeps a pointer back to its stream, which must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    /// deflate's output space, reused: most appends produce nothing yet.
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private var finished = false

    /// `level` as `s3.compression.level`: -1 (zlib's default, 6), or 0 (stored) to 9.
    init(level: Int32 = Z_DEFAULT_COMPRESSION) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = tributary_deflate_init_gzip(stream, level)
        // Fails only for a level outside -1...9 (the config refuses those) or without memory.
        precondition(status == Z_OK, "deflateInit2 failed (\(status)) for level \(level)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `chunk`; returns the output bytes completed so far.
    func append(_ chunk: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        append(chunk, to: &out)
        return out
    }

    /// Compresses `chunk`, adding the output bytes completed so far to `out`
    /// (an object's buffer: no intermediate array per record).
    func append(_ chunk: [UInt8], to out: inout [UInt8]) {
        deflate(chunk, flush: Z_NO_FLUSH, to: &out)
    }

    /// Ends the stream: what deflate still holds, then CRC-32 and size.
    func finish() -> [UInt8] {
        var out: [UInt8] = []
        finish(to: &out)
        return out
    }

    /// Ends the stream, adding what deflate still holds, then CRC-32 and size, to `out`.
    func finish(to out: inout [UInt8]) {
        precondition(!finished, "gzip stream finished twice")
        finished = true
        deflate([], flush: Z_FINISH, to: &out)
    }

    /// gzip of `data` in one go.
    static func compress(_ data: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        let writer = GzipWriter(level: level)
        return writer.append(data) + writer.finish()
    }

    private func deflate(_ input: [UInt8], flush: Int32, to out: inout [UInt8]) {
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            repeat {
                let produced = scratch.withUnsafeMutableBufferPointer { buffer -> Int in
                    stream.pointee.next_out = buffer.baseAddress
                    stream.pointee.avail_out = UInt32(buffer.count)
                    // In memory, with output space given, deflate cannot fail.
                    let status = CZlib.deflate(stream, flush)
                    precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed: \(status)")
                    return buffer.count - Int(stream.pointee.avail_out)
                }
                out += scratch[..<produced]
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
    }
}
