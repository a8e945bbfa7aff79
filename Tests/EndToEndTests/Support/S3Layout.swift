/// The S3 sink's object names and offset coverage, as Confluent's sink
/// lays them out: `<topics.dir>/<topic>/partition=<p>/<topic>+<p>+<start offset, 10 digits>.json`,
/// and per Kafka partition the objects cover offsets 0 ..< high watermark
/// with neither gap nor overlap (a re-upload after a restart must replace an
/// object, never add a second one holding the same offsets).
enum S3Layout {
    static func problems(
        _ objects: [String: [S3Reader.S3Record]], topicsDir: String, topic: String,
        watermarks: [Int32: (low: Int64, high: Int64)]
    ) -> [String] {
        var problems: [String] = []
        var starts: [Int32: [(start: Int64, count: Int, key: String)]] = [:]
        let prefix = "\(topicsDir)/\(topic)/partition="
        for (key, records) in objects {
            guard let (partition, start) = parse(key, prefix: prefix, topic: topic) else {
                problems.append("object key \(key) is not \(prefix)<p>/\(topic)+<p>+<10-digit offset>.json")
                continue
            }
            if records.isEmpty { problems.append("object \(key) is empty") }
            starts[partition, default: []].append((start, records.count, key))
        }
        for partition in Set(starts.keys).union(watermarks.keys).sorted() {
            var next: Int64 = 0
            for object in (starts[partition] ?? []).sorted(by: { $0.start < $1.start }) {
                if object.start > next { problems.append("partition \(partition): offsets \(next)..<\(object.start) are in no object") }
                if object.start < next { problems.append("partition \(partition): \(object.key) starts at \(object.start), inside the previous object (which ends before \(next))") }
                next = object.start + Int64(object.count)
            }
            let high = watermarks[partition]?.high ?? 0
            if next != high {
                problems.append("partition \(partition): objects end before offset \(next), the topic's high watermark is \(high)")
            }
        }
        return problems
    }

    /// (partition, start offset) of a well-formed key.
    static func parse(_ key: String, prefix: String, topic: String) -> (Int32, Int64)? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/"), let partition = Int32(rest[..<slash]) else { return nil }
        let name = rest[rest.index(after: slash)...]
        let head = "\(topic)+\(partition)+"
        guard name.hasPrefix(head), name.hasSuffix(".json") else { return nil }
        let digits = name.dropFirst(head.count).dropLast(".json".count)
        guard digits.count == 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let start = Int64(digits), String(partition) == rest[..<slash] else {
            return nil
        }
        return (partition, start)
    }
}
