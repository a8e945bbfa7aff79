#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local disk space for the bytes of one open S3 file that the task's
/// memory budget has no room for.
///
/// An object smaller than S3's 5 MiB minimum part (10,000 JSON records of
/// 240 bytes is 2.4 MB) can only be sent whole, at rotation, so until then
/// every open file holds all of it: 64 partitions came to about 150 MB of
/// buffers. Spilled bytes sit in the page cache, which the kernel can write
/// out and reclaim, instead of the worker's resident heap.
///
/// The file is unlinked as soon as it is made, so nothing is left behind by
/// a crash, and is closed when the last reference goes. Its calls block, so
/// they run on the budget's ``PipelineCore/BlockingWorker``, never on the
/// cooperative pool.
final class SpillFile: Sendable {
    private let descriptor: Int32

    /// Makes an unlinked file in `directory`.
    static func create(in directory: String) throws(SpillError) -> SpillFile {
        var template = Array("\(directory)/tributary-s3-spill-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw SpillError(operation: "create a spill file in \(directory)", errno: errno) }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        return SpillFile(descriptor: descriptor)
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Writes `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(SpillError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SpillError(operation: "write \(bytes.count) bytes to a spill file", errno: errno) }
            done += written
        }
    }

    /// The first `count` bytes.
    func read(count: Int) throws(SpillError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, count - done, off_t(done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw SpillError(operation: "read \(count) bytes back from a spill file", errno: errno) }
            done += got
        }
        return bytes
    }
}

/// A spill file could not be made, written or read (a full disk, say).
struct SpillError: Error, Sendable, CustomStringConvertible {
    var operation: String
    var errno: Int32

    var description: String {
        "could not \(operation): \(String(cString: strerror(errno)))"
    }
}
