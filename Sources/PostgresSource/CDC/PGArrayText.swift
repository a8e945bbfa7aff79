/// PostgreSQL's text form of a one-dimensional array (`{1,2,NULL}`,
/// `{"a b","c\"d",e}`), as pgoutput and a text-format SELECT send it.
enum PGArrayText {
    /// Array types whose elements become Connect values (the array a Connect
    /// array of them), by array type OID: the element type's OID.
    static let elementTypes: [UInt32: UInt32] = [
        1000: ColumnReader.OID.bool, 1005: ColumnReader.OID.int2, 1007: ColumnReader.OID.int4, 1016: ColumnReader.OID.int8,
        1021: ColumnReader.OID.float4, 1022: ColumnReader.OID.float8, 1009: ColumnReader.OID.text, 1015: ColumnReader.OID.varchar,
        1014: ColumnReader.OID.bpchar, 2951: ColumnReader.OID.uuid, 1182: ColumnReader.OID.date, 1115: ColumnReader.OID.timestamp,
        1185: ColumnReader.OID.timestamptz,
    ]

    /// The elements (nil for an SQL NULL element), or nil when `text` is not
    /// a one-dimensional array literal: nested (multidimensional), with
    /// explicit bounds (`[0:1]={…}`), or malformed.
    static func elements(_ text: some Collection<UInt8>) -> [[UInt8]?]? {
        var bytes = text.makeIterator()
        guard bytes.next() == UInt8(ascii: "{") else { return nil }
        var elements: [[UInt8]?] = []
        var current: [UInt8] = []
        var quoted = false, sawQuotes = false, afterQuotes = false, closed = false
        func finish() {
            // An unquoted NULL is the SQL null; "NULL" in quotes is the text.
            let trimmed = sawQuotes ? current : trim(current)
            elements.append(!sawQuotes && trimmed.count == 4 && String(decoding: trimmed, as: UTF8.self).uppercased() == "NULL" ? nil : trimmed)
            current = []
            sawQuotes = false
            afterQuotes = false
        }
        while let byte = bytes.next() {
            if closed { return nil }  // something after the closing brace
            if quoted {
                switch byte {
                case UInt8(ascii: "\\"):
                    guard let escaped = bytes.next() else { return nil }
                    current.append(escaped)
                case UInt8(ascii: "\""):
                    quoted = false
                    afterQuotes = true
                default:
                    current.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "{"):
                return nil  // multidimensional
            case UInt8(ascii: "\""):
                guard current.allSatisfy(isSpace), !sawQuotes else { return nil }
                current = []
                quoted = true
                sawQuotes = true
            case UInt8(ascii: ","):
                finish()
            case UInt8(ascii: "}"):
                if !(elements.isEmpty && current.isEmpty && !sawQuotes) { finish() }
                closed = true
            case UInt8(ascii: "\\"):
                guard !afterQuotes, let escaped = bytes.next() else { return nil }
                current.append(escaped)
            default:
                if afterQuotes { guard isSpace(byte) else { return nil }; continue }
                current.append(byte)
            }
        }
        return closed && !quoted ? elements : nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func trim(_ bytes: [UInt8]) -> [UInt8] {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(bytes[first...last])
    }
}
