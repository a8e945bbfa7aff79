/// Deterministic, Faker-like users: the same seed and row number always give
/// the same row, on every platform.
///
/// Each row draws from its own generator seeded by (seed, row number), so a
/// row can be produced on its own, in any order, or in parallel, and
/// generating rows 1...N in batches gives the same rows as generating them at once.
/// The hot path avoids Foundation: strings are assembled directly and dates
/// are computed with integer arithmetic.
public struct UserGenerator: Sendable {
    /// The seed used when none is given.
    public static let defaultSeed: UInt64 = 42

    public var seed: UInt64
    /// `createdAt` falls in `[createdFrom, createdUntil)` (microseconds since the epoch).
    public var createdFrom: Int64
    public var createdUntil: Int64
    /// Birthdates make users 18 to 90 years old on this date.
    public var referenceDate: CivilDate

    /// - Parameters:
    ///   - seed: selects the data set.
    ///   - createdFrom / createdUntil: the range of `createdAt`, by default 2015-01-01 to 2025-01-01.
    public init(
        seed: UInt64 = UserGenerator.defaultSeed,
        createdFrom: Int64 = CivilDate(year: 2015, month: 1, day: 1).daysSinceEpoch * CivilTime.microsPerDay,
        createdUntil: Int64 = CivilDate(year: 2025, month: 1, day: 1).daysSinceEpoch * CivilTime.microsPerDay,
        referenceDate: CivilDate = CivilDate(year: 2025, month: 1, day: 1)
    ) {
        precondition(createdFrom < createdUntil, "createdFrom must be before createdUntil")
        self.seed = seed
        self.createdFrom = createdFrom
        self.createdUntil = createdUntil
        self.referenceDate = referenceDate
    }

    /// The user for `rowNumber` (>= 0).
    public func row(_ rowNumber: Int64) -> UserRow {
        precondition(rowNumber >= 0, "row numbers are non-negative")
        var rng = rowGenerator(rowNumber, stream: 0)
        let first = rng.below(Names.first.count)
        let last = rng.below(Names.last.count)
        let email = makeEmail(first: first, last: last, rowNumber: rowNumber, rng: &rng)
        let address = makeAddress(rng: &rng)
        let country = rng.chance(4, in: 5) ? Places.countries[0] : rng.pick(Places.countries)
        let phone = makePhone(rng: &rng)
        let job = rng.pick(Names.jobs)
        let company = makeCompany(rng: &rng)
        let birthdate = makeBirthdate(rng: &rng)
        let createdAt = rng.between(createdFrom...(createdUntil - 1))
        let updatedAt = rng.chance(1, in: 2) ? createdAt : rng.between(createdAt...(createdUntil - 1))
        return UserRow(
            rowNumber: rowNumber, firstName: Names.first[first], lastName: Names.last[last], email: email,
            streetAddress: address.street, city: address.city, state: address.state, zip: address.zip,
            country: country, phone: phone, job: job, company: company, birthdate: birthdate,
            createdAt: createdAt, updatedAt: updatedAt)
    }

    /// Rows `range`, lazily.
    public func rows(_ range: Range<Int64>) -> LazyMapSequence<Range<Int64>, UserRow> {
        range.lazy.map { self.row($0) }
    }

    /// The new address, phone and job of `rowNumber` at its `revision`-th
    /// update (revisions start at 1; each one differs from the previous one with
    /// overwhelming probability).
    public func update(_ rowNumber: Int64, revision: UInt64) -> UserUpdate {
        var rng = rowGenerator(rowNumber, stream: revision)
        let address = makeAddress(rng: &rng)
        return UserUpdate(
            streetAddress: address.street, city: address.city, state: address.state, zip: address.zip,
            phone: makePhone(rng: &rng), job: rng.pick(Names.jobs), company: makeCompany(rng: &rng))
    }

    // MARK: - Pieces

    /// Independent streams per (seed, row, revision), via the SplitMix finaliser.
    func rowGenerator(_ rowNumber: Int64, stream: UInt64) -> SplitMix64 {
        let base = SplitMix64.mix(seed ^ 0x5DEE_CE66_D1CE_4E5B)
        let row = SplitMix64.mix(base &+ UInt64(bitPattern: rowNumber))
        return SplitMix64(seed: SplitMix64.mix(row ^ stream &* 0xD6E8_FEB8_6659_FD93))
    }

    /// Every style ends with the row number's digits and names hold no digits,
    /// so the row number can be read back from the email: emails of distinct
    /// row numbers always differ.
    func makeEmail(first: Int, last: Int, rowNumber: Int64, rng: inout SplitMix64) -> String {
        let f = Names.firstLower[first], l = Names.lastLower[last]
        var local: String
        switch rng.below(4) {
        case 0: local = f + "." + l
        case 1: local = f + "_" + l
        case 2: local = String(f.first!) + l
        default: local = f + l
        }
        local += String(rowNumber)
        return local + "@" + rng.pick(Names.emailDomains)
    }

    func makeAddress(rng: inout SplitMix64) -> (street: String, city: String, state: String, zip: String) {
        var street = String(rng.between(1...9999)) + " " + rng.pick(Places.streetNames) + " " + rng.pick(Places.streetSuffixes)
        if rng.chance(1, in: 4) {
            street += " " + rng.pick(Places.secondaryUnits) + " " + String(rng.between(1...999))
        }
        var city = rng.pick(Names.last) + rng.pick(Places.citySuffixes)
        if rng.chance(2, in: 5) { city = rng.pick(Places.cityPrefixes) + " " + city }
        let state = rng.pick(Places.states)
        var zip: [UInt8] = []
        zip.reserveCapacity(5)
        CivilTime.appendDigits(state.zipFirst * 10_000 + Int(rng.between(501...9999)), width: 5, to: &zip)
        return (street, city, state.code, String(decoding: zip, as: UTF8.self))
    }

    func makePhone(rng: inout SplitMix64) -> String {
        let area = Int(rng.between(201...989)), exchange = Int(rng.between(200...999)), line = Int(rng.between(0...9999))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ v: Int, _ width: Int) { CivilTime.appendDigits(v, width: width, to: &bytes) }
        func text(_ s: StaticString) { bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        switch rng.below(4) {
        case 0: text("("); digits(area, 3); text(") "); digits(exchange, 3); text("-"); digits(line, 4)
        case 1: digits(area, 3); text("-"); digits(exchange, 3); text("-"); digits(line, 4)
        case 2: text("+1-"); digits(area, 3); text("-"); digits(exchange, 3); text("-"); digits(line, 4)
        default: digits(area, 3); text("."); digits(exchange, 3); text("."); digits(line, 4)
        }
        if rng.chance(1, in: 10) { text("x"); digits(Int(rng.between(1...9999)), 1) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func makeCompany(rng: inout SplitMix64) -> String {
        switch rng.below(3) {
        case 0: return rng.pick(Names.last) + " " + rng.pick(Names.companySuffixes)
        case 1: return rng.pick(Names.last) + "-" + rng.pick(Names.last)
        default: return rng.pick(Names.last) + ", " + rng.pick(Names.last) + " and " + rng.pick(Names.last)
        }
    }

    func makeBirthdate(rng: inout SplitMix64) -> CivilDate {
        let reference = referenceDate.daysSinceEpoch
        // 18 to 90 years before the reference date (365.2425 days a year).
        let youngest = reference - 18 * 365_2425 / 10_000
        let oldest = reference - 90 * 365_2425 / 10_000
        return CivilDate(daysSinceEpoch: rng.between(oldest...youngest))
    }
}
