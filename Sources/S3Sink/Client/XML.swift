/// A parsed XML element: just enough of XML for S3's responses.
///
/// S3 answers with small, flat documents (`ListBucketResult`, `Error`,
/// `InitiateMultipartUploadResult`, …). A tiny parser avoids a dependency on
/// libxml2 through FoundationXML, which is not part of every Linux install.
/// Attributes are skipped and namespace prefixes dropped.
struct XMLElement: Sendable, Equatable {
    var name: String
    var children: [XMLElement] = []
    /// The element's own character data, entities decoded.
    var text: String = ""

    /// The first child called `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// All children called `name`, in document order.
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child called `name`.
    func value(_ name: String) -> String? { child(name)?.text }
}

/// The response was not the XML we expected.
struct XMLParseError: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { "malformed XML: \(reason)" }
}

enum XML {
    /// Parses a document and returns its root element.
    static func parse<Bytes: Collection>(_ bytes: Bytes) throws(XMLParseError) -> XMLElement
    where Bytes.Element == UInt8 {
        var parser = Parser(bytes: Array(bytes))
        return try parser.document()
    }

    /// Escapes text for element content or attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() throws(XMLParseError) -> XMLElement {
            while true {
                skipWhitespace()
                guard position < bytes.count else { throw XMLParseError(reason: "no root element") }
                if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!") {
                    try skip(past: ">")
                } else if bytes[position] == UInt8(ascii: "<") {
                    return try element()
                } else {
                    throw XMLParseError(reason: "text before the root element")
                }
            }
        }

        /// Parses `<name …>content</name>` or `<name …/>` at `position`.
        mutating func element() throws(XMLParseError) -> XMLElement {
            position += 1  // "<"
            let rawName = readName()
            guard !rawName.isEmpty else { throw XMLParseError(reason: "empty element name") }
            var node = XMLElement(name: Self.localName(rawName))
            // Skip attributes, honouring quotes (a value may contain ">").
            var quote: UInt8? = nil
            while position < bytes.count {
                let byte = bytes[position]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: "/") && position + 1 < bytes.count
                    && bytes[position + 1] == UInt8(ascii: ">")
                {
                    position += 2
                    return node
                } else if byte == UInt8(ascii: ">") {
                    position += 1
                    break
                }
                position += 1
            }
            var text: [UInt8] = []
            while true {
                guard position < bytes.count else {
                    throw XMLParseError(reason: "unclosed element <\(rawName)>")
                }
                if starts(with: "</") {
                    position += 2
                    let closing = readName()
                    guard closing == rawName else {
                        throw XMLParseError(reason: "</\(closing)> closes <\(rawName)>")
                    }
                    try skip(past: ">")
                    node.text = try Self.decodeEntities(text)
                    return node
                } else if starts(with: "<![CDATA[") {
                    position += 9
                    let start = position
                    try skip(past: "]]>")
                    text.append(contentsOf: Self.escapeAmpersands(bytes[start..<(position - 3)]))
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else if bytes[position] == UInt8(ascii: "<") {
                    node.children.append(try self.element())
                } else {
                    text.append(bytes[position])
                    position += 1
                }
            }
        }

        mutating func readName() -> String {
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: " ")
                    || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                {
                    break
                }
                position += 1
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func skipWhitespace() {
            while position < bytes.count,
                [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
                    .contains(bytes[position])
            {
                position += 1
            }
        }

        func starts(with literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            let pattern = UnsafeBufferPointer(start: literal.utf8Start, count: count)
            return bytes[position..<(position + count)].elementsEqual(pattern)
        }

        mutating func skip(past literal: StaticString) throws(XMLParseError) {
            while position < bytes.count {
                if starts(with: literal) {
                    position += literal.utf8CodeUnitCount
                    return
                }
                position += 1
            }
            throw XMLParseError(reason: "missing \(literal)")
        }

        static func localName(_ name: String) -> String {
            name.split(separator: ":").last.map(String.init) ?? name
        }

        /// CDATA is literal; escape its ampersands so entity decoding keeps them.
        static func escapeAmpersands(_ slice: ArraySlice<UInt8>) -> [UInt8] {
            var out: [UInt8] = []
            for byte in slice {
                if byte == UInt8(ascii: "&") { out += Array("&amp;".utf8) } else { out.append(byte) }
            }
            return out
        }

        static func decodeEntities(_ raw: [UInt8]) throws(XMLParseError) -> String {
            guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            var index = 0
            while index < raw.count {
                guard raw[index] == UInt8(ascii: "&") else {
                    out.append(raw[index])
                    index += 1
                    continue
                }
                guard let end = raw[index...].firstIndex(of: UInt8(ascii: ";")) else {
                    throw XMLParseError(reason: "unterminated entity")
                }
                let entity = String(decoding: raw[(index + 1)..<end], as: UTF8.self)
                switch entity {
                case "amp": out.append(UInt8(ascii: "&"))
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    let number: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        number = UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        number = UInt32(entity.dropFirst())
                    } else {
                        number = nil
                    }
                    guard let number, let scalar = Unicode.Scalar(number) else {
                        throw XMLParseError(reason: "unknown entity &\(entity);")
                    }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
                index = end + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
