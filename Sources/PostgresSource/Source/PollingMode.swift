/// How the source finds new rows, as Kafka Connect's JDBC source `mode`.
public enum PollingMode: String, Sendable, CaseIterable {
    /// The whole table on every poll; no position is kept.
    case bulk
    /// Rows whose strictly increasing integer column is above the last one seen (new rows only).
    case incrementing
    /// Rows whose timestamp column is above the last one seen (new and updated rows).
    case timestamp
    /// Both: the timestamp orders, the incrementing column breaks ties.
    case timestampIncrementing = "timestamp+incrementing"

    var usesIncrementing: Bool { self == .incrementing || self == .timestampIncrementing }
    var usesTimestamp: Bool { self == .timestamp || self == .timestampIncrementing }
}

/// Connect's `numeric.mapping`: how NUMERIC columns become Connect types.
public enum NumericMapping: String, Sendable, CaseIterable {
    /// Always Decimal (with the column's scale).
    case none
    /// Integers for scale-0 columns of at most 18 digits; Decimal otherwise.
    case precisionOnly = "precision_only"
    /// As precision_only, plus double for columns of at most 18 digits with a scale.
    case bestFit = "best_fit"
    /// As best_fit, plus double for every column with a scale.
    case bestFitEagerDouble = "best_fit_eager_double"
}
