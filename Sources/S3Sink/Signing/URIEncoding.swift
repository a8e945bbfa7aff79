/// Percent-encoding exactly as SigV4 and S3 define it.
///
/// Only the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` stay as
/// they are; every other byte of the UTF-8 form becomes `%XX` with upper-case
/// hex. Foundation's `addingPercentEncoding` keeps characters such as `!`,
/// `$`, `'`, `(`, `)`, `*`, `+`, `,`, `;`, `=`, `:` and `@` unencoded in
/// paths, which S3 would then sign differently, so we do not use it.
enum URIEncoding {
    private static let upperHex = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Encodes `string`; with `keepSlash` a `/` stays literal (for paths).
    static func encode(_ string: String, keepSlash: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(byte >> 4)])
                out.append(upperHex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The path as sent and as signed for S3: each segment encoded once,
    /// the `/` between segments kept. S3 does not normalise paths (no `.`
    /// or `//` removal) and does not double-encode, unlike other services.
    static func encodePath(_ rawPath: String) -> String {
        let encoded = encode(rawPath, keepSlash: true)
        return encoded.hasPrefix("/") ? encoded : "/" + encoded
    }
}
