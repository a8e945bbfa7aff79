import PipelineCore

/// A REST error as Kafka Connect answers it: `{"error_code": N, "message": "…"}`
/// with Connect's codes (400 bad request or config, 404 unknown connector or
/// plugin, 409 conflicting operation). Messages never hold a secret: config
/// errors come from ``PipelineError``, which names the key, not its value.
public struct ConnectRestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(_ code: Int, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Connect's error body.
    public var body: JSON { .object([("error_code", .int(Int64(code))), ("message", .string(message))]) }

    public static func badRequest(_ message: String) -> ConnectRestError { ConnectRestError(400, message) }
    public static func notFound(_ message: String) -> ConnectRestError { ConnectRestError(404, message) }
    public static func conflict(_ message: String) -> ConnectRestError { ConnectRestError(409, message) }

    static func unknownConnector(_ name: String) -> ConnectRestError { .notFound("Connector \(name) not found") }
}
