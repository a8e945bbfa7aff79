/// One fake user, as the generator writes it into the USERS table.
///
/// Timestamps are microseconds since the Unix epoch (UTC), the resolution of
/// PostgreSQL's `timestamptz`; ``CivilTime`` formats them.
public struct UserRow: Sendable, Hashable {
    /// The row number the row was generated from; it makes the email unique.
    public var rowNumber: Int64
    public var firstName: String
    public var lastName: String
    /// Unique across row numbers: the local part ends with the row number.
    public var email: String
    public var streetAddress: String
    public var city: String
    /// Two-letter US state code.
    public var state: String
    public var zip: String
    public var country: String
    public var phone: String
    public var job: String
    public var company: String
    public var birthdate: CivilDate
    public var createdAt: Int64
    /// Never before `createdAt`.
    public var updatedAt: Int64

    public init(
        rowNumber: Int64, firstName: String, lastName: String, email: String, streetAddress: String, city: String,
        state: String, zip: String, country: String, phone: String, job: String, company: String,
        birthdate: CivilDate, createdAt: Int64, updatedAt: Int64
    ) {
        self.rowNumber = rowNumber
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.streetAddress = streetAddress
        self.city = city
        self.state = state
        self.zip = zip
        self.country = country
        self.phone = phone
        self.job = job
        self.company = company
        self.birthdate = birthdate
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What changes when an existing user is updated: they moved and changed jobs.
public struct UserUpdate: Sendable, Hashable {
    public var streetAddress: String
    public var city: String
    public var state: String
    public var zip: String
    public var phone: String
    public var job: String
    public var company: String
}
