import Foundation
import PipelineCore

/// A time zone's UTC offset at an instant (daylight saving included).
struct ZoneRules: Sendable {
    let timeZone: TimeZone

    /// Parses `timezone` as Confluent does (IANA ids such as `UTC`,
    /// `Europe/Berlin`); empty means UTC.
    init(identifier: String, key: String) throws(PipelineError) {
        if identifier.isEmpty {
            timeZone = TimeZone(identifier: "UTC")!
        } else if let zone = TimeZone(identifier: identifier) {
            timeZone = zone
        } else {
            throw PipelineError.config(key: key, reason: "unknown time zone '\(identifier)'")
        }
    }

    func offsetSeconds(atEpochMilliseconds instant: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000))
    }

    func civil(_ instant: Int64) -> CivilDateTime {
        CivilDateTime(epochMilliseconds: instant, offsetSeconds: offsetSeconds(atEpochMilliseconds: instant))
    }

    /// The start of the `granularity` bucket holding `instant`, with buckets
    /// counted in local time (Confluent's `TimeBasedPartitioner.getPartition`).
    func bucketStart(_ instant: Int64, granularity: Int64) -> Int64 {
        let offset = Int64(offsetSeconds(atEpochMilliseconds: instant)) * 1000
        let (bucket, _) = CivilCalendar.floorDivide(instant + offset, granularity)
        let localStart = bucket * granularity
        return localStart - Int64(offsetSeconds(atEpochMilliseconds: localStart - offset)) * 1000
    }

    /// The first instant after `now` that is a whole number of `interval`s
    /// past local midnight (Confluent's `getNextTimeAdjustedByDay`).
    func nextBoundary(after now: Int64, interval: Int64) -> Int64 {
        let offset = Int64(offsetSeconds(atEpochMilliseconds: now)) * 1000
        let (days, msOfDay) = CivilCalendar.floorDivide(now + offset, CivilCalendar.millisecondsPerDay)
        let midnight = days * 86_400_000 - offset
        let next = midnight + (msOfDay / interval + 1) * interval
        return min(next, midnight + 86_400_000)
    }
}

/// A Joda-Time `DateTimeFormat` pattern, as Confluent's `path.format`
/// takes, for numeric fields: `'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH`.
///
/// Supported letters: `y`/`Y` year (`yy` two digits), `M` month, `d` day,
/// `D` day of year, `H` hour (0–23), `m` minute, `s` second, `S` millisecond.
/// Text between single quotes is literal (`''` is a quote); other
/// punctuation is literal. Text fields (`MMM`, `EEE`, …) are rejected with
/// a configuration error, so `locale` never changes a path.
struct PathFormat: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(String)
        case field(Character, count: Int)
    }

    let tokens: [Token]

    init(_ pattern: String, key: String = "path.format") throws(PipelineError) {
        var tokens: [Token] = []
        var literal = ""
        let characters = Array(pattern)
        var index = 0
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)) }
            literal = ""
        }
        while index < characters.count {
            let character = characters[index]
            if character == "'" {
                index += 1
                if index < characters.count && characters[index] == "'" {
                    literal.append("'")
                    index += 1
                    continue
                }
                var closed = false
                while index < characters.count {
                    if characters[index] == "'" {
                        if index + 1 < characters.count && characters[index + 1] == "'" {
                            literal.append("'")
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    literal.append(characters[index])
                    index += 1
                }
                guard closed else { throw PipelineError.config(key: key, reason: "unterminated quote in '\(pattern)'") }
            } else if character.isLetter && character.isASCII {
                var count = 0
                while index < characters.count && characters[index] == character {
                    count += 1
                    index += 1
                }
                guard "yYMdDHmsS".contains(character), !(character == "M" && count > 2) else {
                    throw PipelineError.config(
                        key: key,
                        reason: "pattern letter '\(String(repeating: character, count: count))' is not supported "
                            + "in '\(pattern)'; use numeric fields y, M, d, D, H, m, s, S and quoted text")
                }
                flush()
                tokens.append(.field(character, count: count))
            } else {
                literal.append(character)
                index += 1
            }
        }
        flush()
        self.tokens = tokens
    }

    func format(_ time: CivilDateTime) -> String {
        var out = ""
        for token in tokens {
            switch token {
            case .literal(let text):
                out += text
            case .field(let letter, let count):
                let value: Int
                switch letter {
                case "y", "Y": value = count == 2 ? time.year % 100 : time.year
                case "M": value = time.month
                case "d": value = time.day
                case "D": value = time.dayOfYear
                case "H": value = time.hour
                case "m": value = time.minute
                case "s": value = time.second
                default: value = time.millisecond
                }
                out += ObjectNaming.zeroPadded(Int64(value), width: count)
            }
        }
        return out
    }
}
