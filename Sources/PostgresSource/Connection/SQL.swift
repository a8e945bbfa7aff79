/// SQL text helpers. Identifiers are always quoted, so table and column names
/// keep their case (USERS stays USERS) and cannot inject SQL.
public enum SQL {
    /// `name` as a quoted identifier: `"na""me"`.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }

    /// `"schema"."table"`.
    public static func quote(schema: String, table: String) -> String {
        quote(schema) + "." + quote(table)
    }

    /// `text` as a string literal, for the few places parameters cannot go (DDL defaults).
    public static func literal(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "''") + "'"
    }
}
