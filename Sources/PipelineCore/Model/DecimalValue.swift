/// An arbitrary-precision decimal as Connect's Decimal logical type holds it:
/// an unscaled integer (big-endian two's complement, minimal length) and a scale.
///
/// The text form ("-123.45") is what databases bind and JSON sinks print;
/// conversion is done digit by digit so no precision is lost beyond Int64.
public struct DecimalValue: Sendable, Hashable, CustomStringConvertible {
    /// Big-endian two's complement bytes of the unscaled value.
    public var unscaled: [UInt8]
    /// Digits after the decimal point.
    public var scale: Int

    public init(unscaled: [UInt8], scale: Int) {
        self.unscaled = unscaled.isEmpty ? [0] : unscaled
        self.scale = scale
    }

    /// Parses a plain decimal string such as `-12.340`; the scale is the
    /// number of digits after the point unless `scale` forces another one
    /// (extra digits must then be zeros, or this returns nil rather than round).
    public init?(_ text: String, scale forcedScale: Int? = nil) {
        var chars = Substring(text.trimmingSpaces)
        var negative = false
        if chars.first == "-" { negative = true; chars = chars.dropFirst() } else if chars.first == "+" { chars = chars.dropFirst() }
        let parts = chars.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let intPart = parts.first else { return nil }
        var fraction = parts.count == 2 ? Array(parts[1]) : []
        guard !(intPart.isEmpty && fraction.isEmpty) else { return nil }
        if let forcedScale {
            while fraction.count > forcedScale {
                guard fraction.last == "0" else { return nil }
                fraction.removeLast()
            }
            fraction += Array(repeating: "0", count: forcedScale - fraction.count)
        }
        var digits: [UInt8] = []
        for ch in Array(intPart) + fraction {
            guard let d = ch.asciiValue, d >= 48, d <= 57 else { return nil }
            digits.append(d - 48)
        }
        let magnitude = DecimalValue.bytes(fromDecimalDigits: digits)
        self.init(unscaled: DecimalValue.twosComplement(magnitude: magnitude, negative: negative), scale: fraction.count)
    }

    /// An exact decimal from an integer unscaled value.
    public init(unscaledInt value: Int64, scale: Int) {
        var bytes = withUnsafeBytes(of: value.bigEndian, Array.init)
        while bytes.count > 1, (bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xFF && bytes[1] & 0x80 != 0) {
            bytes.removeFirst()
        }
        self.init(unscaled: bytes, scale: scale)
    }

    /// True when the unscaled value is negative.
    public var isNegative: Bool { (unscaled.first ?? 0) & 0x80 != 0 }

    /// The plain text form, e.g. `-123.45`, `0.001`, `42`.
    public var description: String {
        let negative = isNegative
        var magnitude = negative ? DecimalValue.negate(unscaled) : unscaled
        var digits = DecimalValue.decimalDigits(fromBytes: &magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = Array(repeating: 0, count: scale - digits.count + 1) + digits }
            let split = digits.count - scale
            let text = String(decoding: digits[..<split].map { $0 + 48 }, as: UTF8.self) + "."
                + String(decoding: digits[split...].map { $0 + 48 }, as: UTF8.self)
            return negative ? "-" + text : text
        }
        var text = String(decoding: digits.map { $0 + 48 }, as: UTF8.self)
        if scale < 0 && text != "0" { text += String(repeating: "0", count: -scale) }
        return negative ? "-" + text : text
    }

    // MARK: - Base conversions

    /// Base-10 digits (most significant first) to a big-endian magnitude.
    static func bytes(fromDecimalDigits digits: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [0]
        for digit in digits {
            var carry = UInt16(digit)
            for i in stride(from: result.count - 1, through: 0, by: -1) {
                let v = UInt16(result[i]) * 10 + carry
                result[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
            while carry > 0 {
                result.insert(UInt8(carry & 0xFF), at: 0)
                carry >>= 8
            }
        }
        return result
    }

    /// A big-endian magnitude to base-10 digits; consumes `bytes`.
    static func decimalDigits(fromBytes bytes: inout [UInt8]) -> [UInt8] {
        var digits: [UInt8] = []
        while bytes.contains(where: { $0 != 0 }) {
            var remainder: UInt16 = 0
            for i in bytes.indices {
                let v = remainder << 8 | UInt16(bytes[i])
                bytes[i] = UInt8(v / 10)
                remainder = v % 10
            }
            digits.append(UInt8(remainder))
        }
        return digits.isEmpty ? [0] : digits.reversed()
    }

    static func twosComplement(magnitude: [UInt8], negative: Bool) -> [UInt8] {
        var bytes = magnitude
        while bytes.count > 1 && bytes[0] == 0 { bytes.removeFirst() }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        guard negative, bytes.contains(where: { $0 != 0 }) else { return bytes }
        var result = negate(bytes)
        // Drop a redundant leading 0xFF sign byte.
        while result.count > 1 && result[0] == 0xFF && result[1] & 0x80 != 0 { result.removeFirst() }
        return result
    }

    /// Two's complement negation of a big-endian number.
    static func negate(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes.map { ~$0 }
        for i in stride(from: result.count - 1, through: 0, by: -1) {
            let (sum, overflow) = result[i].addingReportingOverflow(1)
            result[i] = sum
            if !overflow { break }
        }
        return result
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines
    /// (Foundation-free, so the hot paths stay light).
    var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
