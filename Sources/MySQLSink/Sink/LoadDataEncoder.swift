import PipelineCore

/// Rows as the text `LOAD DATA` reads with its default format: fields ended
/// by a tab, lines by a newline, `\` escaping tab, newline, carriage return,
/// NUL and itself, `\N` for NULL.
///
/// The text is sent with `CHARACTER SET binary`, so the server takes every
/// byte as it is (no conversion of text, nothing lost in BLOBs). A value that
/// is not provably stored the same as by a prepared INSERT (a double, a date
/// out of range) makes ``append(_:)`` return false: the caller then writes
/// those rows with prepared INSERTs.
struct LoadDataEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends one row; false (and nothing appended) when a value has no
    /// exact LOAD DATA form.
    mutating func append(_ values: [SQLValue]) -> Bool {
        let start = bytes.count
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: "\t")) }
            guard field(value) else {
                bytes.removeSubrange(start...)
                return false
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        return true
    }

    private mutating func field(_ value: SQLValue) -> Bool {
        switch value {
        case .null:
            escape(UInt8(ascii: "N"))
        case .int(let v):
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            digits(v.magnitude, 1)
        case .double:
            // Bound, a double is converted by the server from its binary
            // value; as text, parsed. Into a DECIMAL or FLOAT column of a
            // table made by hand the two may round differently, so rows
            // with doubles always go as prepared INSERTs.
            return false
        case .text(let s), .decimal(let s):
            var s = s
            s.withUTF8 { escaped($0) }
        case .bytes(let b):
            b.withUnsafeBufferPointer { escaped($0) }
        case .datetime(let ms):
            guard value.outOfRangeReason == nil else { return false }
            let t = CivilDateTime(epochMilliseconds: ms)
            date(t)
            bytes.append(UInt8(ascii: " "))
            clock(hours: t.hour, t)
        case .date(let days):
            guard value.outOfRangeReason == nil else { return false }
            date(CivilDateTime(daysSinceEpoch: Int64(days)))
        case .time(let ms):
            guard value.outOfRangeReason == nil else { return false }
            // A duration, as ParameterBuffer binds it: hours may pass 24.
            let magnitude = Int64(ms).magnitude
            let t = CivilDateTime(epochMilliseconds: Int64(magnitude % 86_400_000))
            if ms < 0 { bytes.append(UInt8(ascii: "-")) }
            clock(hours: t.hour + Int(magnitude / 86_400_000) * 24, t)
        }
        return true
    }

    /// The bytes, escaped; the usual text has nothing to escape and is
    /// copied in one go.
    private mutating func escaped(_ source: UnsafeBufferPointer<UInt8>) {
        guard source.contains(where: Self.needsEscape) else {
            bytes.append(contentsOf: source)
            return
        }
        for byte in source {
            switch byte {
            case UInt8(ascii: "\\"): escape(UInt8(ascii: "\\"))
            case UInt8(ascii: "\t"): escape(UInt8(ascii: "t"))
            case UInt8(ascii: "\n"): escape(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): escape(UInt8(ascii: "r"))
            case 0: escape(UInt8(ascii: "0"))
            default: bytes.append(byte)
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == 0
    }

    private mutating func escape(_ letter: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(letter)
    }

    private mutating func date(_ t: CivilDateTime) {
        digits(t.year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(t.month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(t.day, 2)
    }

    private mutating func clock(hours: Int, _ t: CivilDateTime) {
        digits(hours, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(t.minute, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(t.second, 2)
        bytes.append(UInt8(ascii: "."))
        digits(t.microsecond, 6)
    }

    /// `n` (not negative) in decimal, zero-padded to at least `width` digits.
    private mutating func digits(_ n: Int, _ width: Int) {
        digits(UInt64(n), width)
    }

    private mutating func digits(_ n: UInt64, _ width: Int) {
        var divisor: UInt64 = 1
        var count = 1
        while count < width || n / divisor >= 10 {
            divisor *= 10
            count += 1
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(n / divisor % 10))
            divisor /= 10
        }
    }
}
