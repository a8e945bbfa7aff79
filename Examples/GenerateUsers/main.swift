// GenerateUsers: deterministic fake users as JSON lines, using DataGen alone.
//
//   swift run GenerateUsers [--rows N] [--seed S] [--first ROW]
//
// DataGen is pure (no I/O, no database): it turns (seed, row number) into a
// user. That is what makes it useful outside Tributary too, for fixtures,
// load tests or reproducible demos: the same seed and row number give the same
// user on every machine, and any slice of rows can be generated on its own.

import DataGen
import Foundation

/// Command-line settings. Parsed by hand: this example depends on DataGen only.
struct Options {
    var rows: Int64 = 10
    var seed: UInt64 = UserGenerator.defaultSeed
    /// The first row number; generating rows 1000..<1010 does not require generating 0..<1000 first.
    var first: Int64 = 1

    static let flags: Set = ["--rows", "--seed", "--first"]

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard Options.flags.contains(flag) else { throw UsageError("unknown option \(flag)") }
            guard let text = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--rows": rows = try Options.number(text, flag)
            case "--seed": seed = try Options.number(text, flag)
            case "--first": first = try Options.number(text, flag)
            default: preconditionFailure("\(flag) is in `flags` but not handled")
            }
        }
        guard rows >= 0, first >= 0 else { throw UsageError("--rows and --first must not be negative") }
    }

    static func number<T: FixedWidthInteger>(_ text: String, _ flag: String) throws -> T {
        guard let value = T(text) else { throw UsageError("\(flag) expects an integer, got '\(text)'") }
        return value
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The JSON shape of one line. UserRow itself is not Codable on purpose (the
/// library stays free of any serialization choice), so the example picks its own.
/// Timestamps are printed as text in UTC, as PostgreSQL prints a timestamptz:
/// microseconds since the epoch are exact but unreadable.
struct UserLine: Encodable {
    var index: Int64
    var firstName, lastName, email: String
    var streetAddress, city, state, zip, country: String
    var phone, job, company: String
    var birthdate: String
    var createdAt, updatedAt: String

    init(_ row: UserRow) {
        index = row.rowNumber
        firstName = row.firstName
        lastName = row.lastName
        email = row.email
        streetAddress = row.streetAddress
        city = row.city
        state = row.state
        zip = row.zip
        country = row.country
        phone = row.phone
        job = row.job
        company = row.company
        birthdate = row.birthdate.description
        createdAt = CivilTime.formatTimestamp(micros: row.createdAt)
        updatedAt = CivilTime.formatTimestamp(micros: row.updatedAt)
    }
}

let usage = "usage: GenerateUsers [--rows N] [--seed S] [--first ROW]"
// `--help` (or `-h`) anywhere: the usage on stdout, exit 0, as every command-line tool does.
if CommandLine.arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}
let options: Options
do {
    options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("GenerateUsers: \(error)\n\(usage)\n".utf8))
    exit(2)
}

let generator = UserGenerator(seed: options.seed)
let encoder = JSONEncoder()
// Sorted keys: byte-identical output for the same seed, whatever the
// dictionary order of the platform's encoder.
encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
// The column names of the USERS table that `tributary generate` writes.
encoder.keyEncodingStrategy = .convertToSnakeCase

// Rows are produced lazily and written in chunks, so memory stays flat for
// any --rows, and a closed pipe (`| head`) ends the program at the next write.
var buffer = Data()
for row in generator.rows(options.first..<(options.first + options.rows)) {
    buffer.append(try encoder.encode(UserLine(row)))
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= 64 * 1024 {
        FileHandle.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
FileHandle.standardOutput.write(buffer)
