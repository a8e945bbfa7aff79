#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PipelineCore

/// Parsers for PostgreSQL's text output of values, as the session is set up
/// (UTC, ISO dates, hex bytea). They read the bytes libpq returns in place.
/// Each returns nil on input it does not understand; the caller names the column.
enum PGText {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func int(_ bytes: Bytes) -> Int64? {
        var i = 0, negative = false
        if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < bytes.count else { return nil }
        var value: Int64 = 0
        while i < bytes.count {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
            i += 1
        }
        return value
    }

    /// float4/float8 text, including NaN and ±Infinity. libpq's values are
    /// NUL-terminated, so strtod reads them in place.
    static func double(_ bytes: Bytes) -> Double? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        var end: UnsafeMutablePointer<CChar>?
        let value = base.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) { strtod($0, &end) }
        guard let end, UnsafeRawPointer(end) == UnsafeRawPointer(base) + bytes.count else { return nil }
        return value
    }

    /// float4/float8 text not followed by a NUL (pgoutput's copies), which
    /// ``double(_:)`` needs; also NaN and ±Infinity.
    static func unterminatedDouble(_ bytes: Bytes) -> Double? {
        let text = String(decoding: bytes, as: UTF8.self)
        if let value = Double(text) { return value }
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return nil
        }
    }

    static func bool(_ bytes: Bytes) -> Bool? {
        guard bytes.count == 1 else { return nil }
        switch bytes[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }

    /// `YYYY-MM-DD` (more year digits allowed) with an optional ` BC`, as days since 1970-01-01.
    static func date(_ bytes: Bytes) -> Int64? {
        var p = Parser(bytes)
        guard let civil = p.civil() else { return nil }
        let days = p.days(civil, bc: p.skipBC())
        return p.atEnd ? days : nil
    }

    /// `HH:MM:SS[.ffffff]` as microseconds since midnight (24:00:00 allowed, as PostgreSQL does).
    static func timeMicros(_ bytes: Bytes) -> Int64? {
        var p = Parser(bytes)
        guard let micros = p.time(), p.atEnd else { return nil }
        return micros
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]` as milliseconds since the
    /// epoch (UTC), floored. A zone offset, when present, is applied.
    ///
    /// Milliseconds, not microseconds: PostgreSQL's range (4713 BC to 294276 AD)
    /// does not fit Int64 microseconds since 1970, but fits Connect's Int64
    /// milliseconds with room to spare. Nil (never a trap) for a value that
    /// overflows even those.
    static func timestampMillis(_ bytes: Bytes) -> Int64? {
        var p = Parser(bytes)
        guard let civil = p.civil(), p.skip(UInt8(ascii: " ")), let time = p.time() else { return nil }
        let offset = p.zoneOffsetSeconds() ?? 0
        let days = p.days(civil, bc: p.skipBC())
        guard p.atEnd else { return nil }
        // Time of day and offset are small: their difference cannot overflow.
        let (dayMillis, overflow1) = days.multipliedReportingOverflow(by: 86_400_000)
        let (millis, overflow2) = dayMillis.addingReportingOverflow(CivilCalendar.floorDivide(time - offset * 1_000_000, 1000).quotient)
        return overflow1 || overflow2 ? nil : millis
    }

    /// bytea in hex output: `\x0a1b...`.
    static func bytea(_ bytes: Bytes) -> [UInt8]? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2 - 1)
        var i = 2
        while i < bytes.count {
            guard let high = ConnectionURL.hexValue(bytes[i]), let low = ConnectionURL.hexValue(bytes[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// A cursor over the text.
    struct Parser {
        let bytes: Bytes
        var i = 0

        init(_ bytes: Bytes) { self.bytes = bytes }

        var atEnd: Bool { i == bytes.count }

        mutating func skip(_ byte: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// Exactly `count` digits, or at least `count` when `orMore`.
        mutating func digits(_ count: Int, orMore: Bool = false) -> Int64? {
            var value: Int64 = 0, n = 0
            while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10, orMore || n < count {
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                i += 1
                n += 1
                if n > 9 { return nil }
            }
            return n >= count ? value : nil
        }

        /// The date part as written: (year, month, day).
        mutating func civil() -> (Int64, Int64, Int64)? {
            guard let y = digits(4, orMore: true), skip(UInt8(ascii: "-")), let m = digits(2), skip(UInt8(ascii: "-")),
                  let d = digits(2), (1...12).contains(m), (1...31).contains(d) else { return nil }
            return (y, m, d)
        }

        /// Consumes a trailing ` BC`.
        mutating func skipBC() -> Bool {
            let suffix: [UInt8] = Array(" BC".utf8)
            guard bytes.count - i >= 3, (0..<3).allSatisfy({ bytes[i + $0] == suffix[$0] }) else { return false }
            i += 3
            return true
        }

        /// Days since the epoch; year N BC is astronomical year 1 - N.
        func days(_ civil: (Int64, Int64, Int64), bc: Bool) -> Int64 {
            CivilCalendar.days(year: bc ? 1 - civil.0 : civil.0, month: civil.1, day: civil.2)
        }

        mutating func time() -> Int64? {
            guard let h = digits(2), skip(UInt8(ascii: ":")), let m = digits(2), skip(UInt8(ascii: ":")), let s = digits(2),
                  h <= 24, m < 60, s < 61 else { return nil }
            var micros = ((h * 60 + m) * 60 + s) * 1_000_000
            if skip(UInt8(ascii: ".")) {
                var scale: Int64 = 100_000, n = 0
                while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 {
                    if n < 6 { micros += Int64(bytes[i] - UInt8(ascii: "0")) * scale }
                    scale /= 10
                    n += 1
                    i += 1
                }
                guard n > 0 else { return nil }
            }
            return micros
        }

        mutating func zoneOffsetSeconds() -> Int64? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") else { return nil }
            let sign: Int64 = bytes[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let h = digits(2) else { return nil }
            var seconds = h * 3600
            if skip(UInt8(ascii: ":")), let m = digits(2) {
                seconds += m * 60
                if skip(UInt8(ascii: ":")), let s = digits(2) { seconds += s }
            }
            return sign * seconds
        }
    }
}
