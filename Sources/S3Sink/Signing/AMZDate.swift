import Foundation

/// The two UTC time stamps SigV4 uses: `20130524T000000Z` and `20130524`.
///
/// Formatted by hand from `gmtime_r`, so no shared `DateFormatter` (and
/// no locale or calendar surprise) is involved.
struct AMZDate: Sendable, Equatable {
    /// `YYYYMMDD'T'HHMMSS'Z'`, the `x-amz-date` value.
    let timestamp: String
    /// `YYYYMMDD`, the date in the credential scope.
    let dateStamp: String

    init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = "\(parts.tm_year + 1900)" + two(parts.tm_mon + 1) + two(parts.tm_mday)
        dateStamp = day
        timestamp = day + "T" + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "Z"
    }
}
