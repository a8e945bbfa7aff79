import Foundation
import PipelineCore

/// AWS credentials: an access key id, its secret and, for temporary
/// credentials, a session token.
///
/// The description shows the access key id only; the secret and the token
/// are PipelineCore `Secret`s, hidden in descriptions, and the mirror has no
/// children, so `dump` and reflection-based loggers cannot reach them either.
public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key id (`AKIA…`); not secret, it appears in every request.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: Secret
    /// The session token of temporary credentials, sent as `x-amz-security-token`.
    public var sessionToken: Secret?

    /// Credentials from explicit values.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = Secret(secretAccessKey)
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : Secret($0) }
    }

    /// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the
    /// optional `AWS_SESSION_TOKEN`.
    ///
    /// - Throws: ``CredentialsError/missing(_:)`` naming the first missing variable.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Credentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
            throw CredentialsError.missing("AWS_ACCESS_KEY_ID")
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw CredentialsError.missing("AWS_SECRET_ACCESS_KEY")
        }
        return Credentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }

    public var description: String {
        "Credentials(accessKeyID: \(accessKeyID), secretAccessKey: [hidden]"
            + (sessionToken == nil ? ")" : ", sessionToken: [hidden])")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID], displayStyle: .struct)
    }
}

/// Why credentials could not be found.
public enum CredentialsError: Error, Equatable, CustomStringConvertible {
    /// The named environment variable is not set or is empty.
    case missing(String)

    public var description: String {
        switch self {
        case .missing(let name):
            return "AWS credentials: environment variable \(name) is not set"
        }
    }
}
