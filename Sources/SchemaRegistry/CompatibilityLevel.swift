/// A subject's (or the registry's) compatibility level, as Confluent names
/// them: which earlier versions a new schema is checked against, and in
/// which direction.
public enum CompatibilityLevel: String, Sendable, CaseIterable, Equatable {
    case none = "NONE"
    case backward = "BACKWARD"
    case backwardTransitive = "BACKWARD_TRANSITIVE"
    case forward = "FORWARD"
    case forwardTransitive = "FORWARD_TRANSITIVE"
    case full = "FULL"
    case fullTransitive = "FULL_TRANSITIVE"

    /// Confluent's default for a registry that was never configured.
    public static let defaultLevel = CompatibilityLevel.backward

    /// Parses a level case-insensitively, as Confluent does.
    public init?(parsing text: String) {
        self.init(rawValue: text.uppercased())
    }

    /// Checked against every earlier live version, not only the latest.
    public var isTransitive: Bool { [.backwardTransitive, .forwardTransitive, .fullTransitive].contains(self) }

    /// The new schema must read data written with the old (the consumers upgrade first).
    public var checksBackward: Bool { [.backward, .backwardTransitive, .full, .fullTransitive].contains(self) }

    /// The old schema must read data written with the new (the producers upgrade first).
    public var checksForward: Bool { [.forward, .forwardTransitive, .full, .fullTransitive].contains(self) }
}
