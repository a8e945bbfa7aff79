import CCrypto

/// SHA-256 and HMAC-SHA256 through OpenSSL's one-shot functions.
///
/// One-shot calls keep no state between uses, so they are safe from any
/// thread without locking.
enum Digest {
    /// The SHA-256 of `bytes`.
    static func sha256<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok: Int32 = bytes.withContiguousStorageIfAvailable { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, EVP_sha256(), nil)
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, EVP_sha256(), nil)
        }
        // EVP_Digest with SHA-256 fails only when OpenSSL cannot allocate;
        // nothing sensible can continue without a hash.
        precondition(ok == 1, "OpenSSL EVP_Digest(SHA-256) failed")
        return Array(out.prefix(Int(length)))
    }

    /// The lower-case hex SHA-256 of `bytes`.
    static func sha256Hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hex(sha256(bytes))
    }

    /// HMAC-SHA256 of `message` under `key`.
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                HMAC(
                    EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                    messageBuffer.baseAddress, messageBuffer.count, &out, &length)
            }
        }
        precondition(result != nil, "OpenSSL HMAC(SHA-256) failed")
        return Array(out.prefix(Int(length)))
    }

    /// HMAC-SHA256 of the UTF-8 bytes of `message` under `key`.
    static func hmacSHA256(key: [UInt8], message: String) -> [UInt8] {
        hmacSHA256(key: key, message: Array(message.utf8))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal, as SigV4 wants for hashes and signatures.
    static func hex(_ bytes: [UInt8]) -> String {
        var chars = [UInt8]()
        chars.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            chars.append(hexDigits[Int(byte >> 4)])
            chars.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
