import PipelineCore

/// An error as Confluent Schema Registry answers it: an HTTP status and
/// `{"error_code": N, "message": "…"}` with Confluent's codes, so clients
/// that branch on `error_code` (Confluent's serializers, Python's
/// `SchemaRegistryError`) see what they expect.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (404, 409, 422, 500, ...).
    public var status: Int
    /// Confluent's `error_code` (40401, 42201, ...; the status itself when there is no finer code).
    public var code: Int
    public var message: String

    public init(status: Int, code: Int, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Confluent's error body.
    public var body: JSON { .object([("error_code", .int(Int64(code))), ("message", .string(message))]) }

    public static func subjectNotFound(_ subject: String) -> RegistryError {
        RegistryError(status: 404, code: 40401, "Subject '\(subject)' not found.")
    }

    public static func versionNotFound(_ subject: String, _ version: Int) -> RegistryError {
        RegistryError(status: 404, code: 40402, "Version \(version) not found for subject '\(subject)'.")
    }

    public static func schemaNotFound(_ detail: String = "Schema not found") -> RegistryError {
        RegistryError(status: 404, code: 40403, detail)
    }

    public static func subjectSoftDeleted(_ subject: String) -> RegistryError {
        RegistryError(status: 404, code: 40404, "Subject '\(subject)' was soft deleted. Set permanent=true to delete permanently")
    }

    public static func subjectNotSoftDeleted(_ subject: String) -> RegistryError {
        RegistryError(status: 404, code: 40405, "Subject '\(subject)' was not deleted first before being permanently deleted")
    }

    public static func versionSoftDeleted(_ subject: String, _ version: Int) -> RegistryError {
        RegistryError(
            status: 404, code: 40406, "Subject '\(subject)' Version \(version) was soft deleted. Set permanent=true to delete permanently")
    }

    public static func versionNotSoftDeleted(_ subject: String, _ version: Int) -> RegistryError {
        RegistryError(
            status: 404, code: 40407, "Subject '\(subject)' Version \(version) was not deleted first before being permanently deleted")
    }

    public static func subjectConfigNotFound(_ subject: String) -> RegistryError {
        RegistryError(status: 404, code: 40408, "Subject '\(subject)' does not have subject-level compatibility configured")
    }

    /// 409: the schema breaks the subject's compatibility level; `reasons` say which rule.
    public static func incompatible(_ subject: String, _ reasons: [String]) -> RegistryError {
        RegistryError(
            status: 409, code: 409,
            "Schema being registered is incompatible with an earlier schema for subject '\(subject)', details: " + reasons.joined(separator: "; "))
    }

    public static func invalidSchema(_ reason: String) -> RegistryError {
        RegistryError(status: 422, code: 42201, "Invalid schema: \(reason)")
    }

    public static func invalidVersion(_ text: String) -> RegistryError {
        RegistryError(
            status: 422, code: 42202,
            "The specified version '\(text)' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")
    }

    public static func invalidCompatibilityLevel(_ text: String) -> RegistryError {
        RegistryError(
            status: 422, code: 42203,
            "Invalid compatibility level '\(text)'; valid values are \(CompatibilityLevel.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    /// 422 without a finer code: a request body that is not what the endpoint takes.
    public static func unprocessable(_ message: String) -> RegistryError {
        RegistryError(status: 422, code: 422, message)
    }

    public static func notFound(_ path: String) -> RegistryError {
        RegistryError(status: 404, code: 404, "HTTP 404 Not Found: no endpoint \(path)")
    }

    /// 50001: the `_schemas` topic could not be read or written.
    public static func store(_ reason: String) -> RegistryError {
        RegistryError(status: 500, code: 50001, "Error in the backend data store: \(reason)")
    }
}
