/// The USERS table as plain data: column names, SQL types and each row's
/// values as text, so a database writer can store ``UserRow``s without
/// knowing this module (stages do not import each other).
public enum UserTableLayout {
    /// The key column: the seed's `"index" bigserial PRIMARY KEY`. The generator
    /// writes row number n as index n, so a row's content follows from its key.
    public static let keyColumn = "index"

    /// The other columns, in the order of ``UserRow/columnTexts``, with
    /// PostgreSQL types.
    public static let columns: [(name: String, sqlType: String)] = [
        ("first_name", "text NOT NULL"), ("last_name", "text NOT NULL"), ("email", "text NOT NULL"),
        ("street_address", "text NOT NULL"), ("city", "text NOT NULL"), ("state", "text NOT NULL"),
        ("zip", "text NOT NULL"), ("country", "text NOT NULL"), ("phone", "text NOT NULL"),
        ("job", "text NOT NULL"), ("company", "text NOT NULL"), ("birthdate", "date NOT NULL"),
        ("created_at", "timestamptz NOT NULL"),
        // clock_timestamp(), not now(): the time is taken when the row is
        // written, after the writer locked the table, never at an earlier
        // transaction start that a timestamp-mode poller may already have passed.
        ("updated_at", "timestamptz NOT NULL DEFAULT clock_timestamp()"),
    ]

    /// The columns an insert writes: all but `updated_at`, which then takes its
    /// default (the insert time), unless `historicUpdatedAt`. A generated past
    /// time would hide fresh rows from timestamp-mode sources that already passed it.
    public static func insertColumns(historicUpdatedAt: Bool = false) -> [String] {
        columns.map(\.name).filter { historicUpdatedAt || $0 != "updated_at" }
    }

    /// Columns an update changes, in the order of ``UserUpdate/columnTexts``.
    public static let updateColumns = ["street_address", "city", "state", "zip", "phone", "job", "company"]
}

extension UserRow {
    /// The values of ``UserTableLayout/insertColumns(historicUpdatedAt:)`` as
    /// text (ISO dates, UTC timestamps).
    public func columnTexts(historicUpdatedAt: Bool = false) -> [String] {
        let texts = [firstName, lastName, email, streetAddress, city, state, zip, country, phone, job, company,
                     birthdate.description, CivilTime.formatTimestamp(micros: createdAt)]
        return historicUpdatedAt ? texts + [CivilTime.formatTimestamp(micros: updatedAt)] : texts
    }
}

extension UserUpdate {
    /// The values of ``UserTableLayout/updateColumns``.
    public var columnTexts: [String] {
        [streetAddress, city, state, zip, phone, job, company]
    }
}
