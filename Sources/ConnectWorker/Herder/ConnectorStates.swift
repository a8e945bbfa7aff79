/// What an operator asked a connector to be (Connect's target state); kept
/// in the config store, so a restarted worker brings it back the same way.
public enum TargetState: String, Sendable, Equatable {
    case running = "RUNNING"
    case paused = "PAUSED"
    case stopped = "STOPPED"
}

/// What a connector is doing now, as Connect's status endpoints name it.
public enum RuntimeState: String, Sendable, Equatable {
    case running = "RUNNING"
    case paused = "PAUSED"
    case stopped = "STOPPED"
    case failed = "FAILED"
    case unassigned = "UNASSIGNED"
    case restarting = "RESTARTING"
}

/// A connector's status: its state and, when it failed, why.
public struct ConnectorStatus: Sendable, Equatable {
    public var state: RuntimeState
    /// The error a failed connector stopped with (Connect's `trace`).
    public var trace: String?

    public init(state: RuntimeState, trace: String? = nil) {
        self.state = state
        self.trace = trace
    }
}

/// One connector as the herder reports it.
public struct ConnectorInfo: Sendable {
    /// The connector's name (the URL's).
    public var name: String
    /// The config as given, placeholders unresolved.
    public var config: [String: String]
    /// Which plugin runs it.
    public var kind: ConnectorKind
    /// What the operator asked for (stored).
    public var target: TargetState
    /// What it is doing now.
    public var status: ConnectorStatus
    /// Its tasks (none while stopped or starting), each with its status.
    public var tasks: [TaskInfo]
    /// A note for the status (e.g. that fewer tasks run than `tasks.max`).
    public var notice: String?
}

/// One task of a connector as the herder reports it.
public struct TaskInfo: Sendable, Equatable {
    /// 0 ..< the connector's task count.
    public var id: Int
    public var status: ConnectorStatus
}
