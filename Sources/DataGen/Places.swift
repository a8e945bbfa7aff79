/// Word lists for US-style postal addresses.
enum Places {
    static let streetNames: [String] = [
        "Maple", "Oak", "Pine", "Cedar", "Elm", "Willow", "Birch", "Walnut", "Chestnut", "Spruce",
        "Lake", "Hill", "River", "Park", "Forest", "Meadow", "Valley", "Ridge", "Sunset", "Highland",
        "Church", "Mill", "School", "Spring", "Union", "Market", "Bridge", "Harbor", "Orchard", "Prospect",
        "Washington", "Lincoln", "Jefferson", "Madison", "Franklin", "Jackson", "Adams", "Monroe", "Grant", "Clinton",
        "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth",
    ]

    static let streetSuffixes: [String] = [
        "Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Boulevard", "Way", "Terrace", "Circle", "Trail",
    ]

    static let secondaryUnits: [String] = ["Apt.", "Suite", "Unit"]

    static let cityPrefixes: [String] = ["North", "South", "East", "West", "New", "Lake", "Port", "Fort", "Mount"]

    static let citySuffixes: [String] = [
        "ville", "town", "burg", "field", "port", "ton", "view", "haven", "side", "mouth", "chester", "bury", "land", "furt",
    ]

    /// (abbreviation, first digit range of its ZIP codes) for the 50 states.
    static let states: [(code: String, zipFirst: Int)] = [
        ("AL", 3), ("AK", 9), ("AZ", 8), ("AR", 7), ("CA", 9), ("CO", 8), ("CT", 0), ("DE", 1), ("FL", 3), ("GA", 3),
        ("HI", 9), ("ID", 8), ("IL", 6), ("IN", 4), ("IA", 5), ("KS", 6), ("KY", 4), ("LA", 7), ("ME", 0), ("MD", 2),
        ("MA", 0), ("MI", 4), ("MN", 5), ("MS", 3), ("MO", 6), ("MT", 5), ("NE", 6), ("NV", 8), ("NH", 0), ("NJ", 0),
        ("NM", 8), ("NY", 1), ("NC", 2), ("ND", 5), ("OH", 4), ("OK", 7), ("OR", 9), ("PA", 1), ("RI", 0), ("SC", 2),
        ("SD", 5), ("TN", 3), ("TX", 7), ("UT", 8), ("VT", 0), ("VA", 2), ("WA", 9), ("WV", 2), ("WI", 5), ("WY", 8),
    ]

    /// Mostly the United States, as the addresses are US-style, with some spread.
    static let countries: [String] = [
        "United States", "Canada", "Mexico", "United Kingdom", "Ireland", "France", "Germany", "Spain",
        "Portugal", "Italy", "Netherlands", "Belgium", "Sweden", "Norway", "Denmark", "Finland",
        "Poland", "Austria", "Switzerland", "Greece", "Brazil", "Argentina", "Chile", "Colombia",
        "Peru", "Japan", "South Korea", "India", "Australia", "New Zealand", "South Africa", "Kenya",
    ]
}
