import PipelineCore

/// How the console shows a key, a value or a header: decoded as far as it
/// can be, and always as text that the templates HTML-escape.
struct RenderedBytes: Sendable, Equatable {
    enum Kind: String, Sendable {
        case null, envelope, json, text, binary
    }

    var kind: Kind
    /// The payload (of an envelope), the pretty JSON, the text or the hex dump.
    var text: String
    /// A Connect JSON envelope's schema, pretty-printed.
    var schema: String?

    /// Bytes shown as hex at most (a page of big binary values stays small).
    static let hexLimit = 4096

    init(kind: Kind, text: String, schema: String? = nil) {
        self.kind = kind
        self.text = text
        self.schema = schema
    }

    /// Connect JSON envelopes as schema and payload, other JSON
    /// pretty-printed, UTF-8 text as is (control characters made visible),
    /// anything else as hex.
    init(_ bytes: [UInt8]?) {
        guard let bytes else {
            self.init(kind: .null, text: "null")
            return
        }
        guard let text = String(validatingUTF8Bytes: bytes) else {
            self.init(kind: .binary, text: Self.hex(bytes))
            return
        }
        let first = bytes.first { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "["), let json = try? JSON.parse(bytes) {
            if case .object(let members) = json, members.count == 2, let schema = json["schema"], let payload = json["payload"] {
                self.init(kind: .envelope, text: payload.prettyText(), schema: schema.prettyText())
            } else {
                self.init(kind: .json, text: json.prettyText())
            }
            return
        }
        self.init(kind: .text, text: Self.visible(text))
    }

    /// Control characters other than newline and tab as `\u{…}`: a NUL or
    /// an escape sequence must show, not vanish or act.
    static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\t" {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Hex pairs, 32 bytes a line, cut at ``hexLimit``.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (i, byte) in bytes.prefix(hexLimit).enumerated() {
            if i > 0 { out.append(i % 32 == 0 ? UInt8(ascii: "\n") : UInt8(ascii: " ")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        var text = String(decoding: out, as: UTF8.self)
        if bytes.count > hexLimit { text += "\n… \(bytes.count - hexLimit) more bytes" }
        return text
    }
}

extension String {
    /// The text of `bytes` when they are valid UTF-8, else nil.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var text = ""
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): text.unicodeScalars.append(scalar)
            case .emptyInput:
                self = text
                return
            case .error: return nil
            }
        }
    }
}

extension JSON {
    /// Indented two spaces a level, members in their order.
    func prettyText() -> String {
        var out = ""
        writePretty(to: &out, indent: 0)
        return out
    }

    private func writePretty(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.writePretty(to: &out, indent: indent + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += closing + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, (name, value)) in members.enumerated() {
                out += pad + JSON.string(name).text + ": "
                value.writePretty(to: &out, indent: indent + 1)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += closing + "}"
        default:
            out += text
        }
    }
}

/// One message on the messages page.
struct MessageRow: Sendable {
    var partition: Int32
    var offset: Int64
    var timestamp: String
    var key: RenderedBytes
    var value: RenderedBytes
    var headers: [(name: String, value: RenderedBytes)]
    /// `__connect.errors.*` headers of a dead letter, by their short name.
    var errorHeaders: [(name: String, value: String)]

    init(_ message: KafkaMessage) {
        partition = message.partition
        offset = message.offset
        timestamp = message.timestamp.map(Self.iso8601) ?? ""
        key = RenderedBytes(message.key)
        value = RenderedBytes(message.value)
        var headers: [(String, RenderedBytes)] = []
        var errors: [(String, String)] = []
        for header in message.headers {
            if header.key.hasPrefix("__connect.errors.") {
                let text = header.value.map { String(validatingUTF8Bytes: $0).map(RenderedBytes.visible) ?? RenderedBytes.hex($0) } ?? "null"
                errors.append((String(header.key.dropFirst("__connect.errors.".count)), text))
            } else {
                headers.append((header.key, RenderedBytes(header.value)))
            }
        }
        self.headers = headers
        errorHeaders = errors
    }

    /// Whether the message passes the page's filters (key equal to `key`,
    /// `contains` in the key, value or a header).
    static func matches(_ message: KafkaMessage, key: String?, contains: String?) -> Bool {
        let keyText = message.key.map { String(decoding: $0, as: UTF8.self) }
        if let key, !key.isEmpty, keyText != key { return false }
        if let contains, !contains.isEmpty {
            let haystacks = [keyText, message.value.map { String(decoding: $0, as: UTF8.self) }]
                + message.headers.map { header in header.value.map { header.key + "=" + String(decoding: $0, as: UTF8.self) } ?? header.key }
            return haystacks.contains { $0?.contains(contains) == true }
        }
        return true
    }

    static func iso8601(_ milliseconds: Int64) -> String {
        let (days, remainder) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (d, ms) = remainder < 0 ? (days - 1, remainder + 86_400_000) : (days, remainder)
        let date = CivilCalendar.date(days: d)
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, frac = ms % 1000
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let fracText = String(frac + 1000).dropFirst()
        return "\(date.year)-\(two(Int64(date.month)))-\(two(Int64(date.day)))T\(two(h)):\(two(m)):\(two(s)).\(fracText)Z"
    }
}
