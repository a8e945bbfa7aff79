/// Where the console learns about connectors: the worker's herder in
/// `tributary connect`; none in `tributary ui`, which shows the cluster alone.
public protocol ConnectorDirectory: Sendable {
    /// Every connector with its state.
    func connectors() async -> [ConnectorOverview]
    /// One connector's state, tasks, config (as stored: the console masks
    /// secrets) and last error; nil when there is no such connector.
    func connector(named name: String) async -> ConnectorDetail?
}

/// A connector as the overview lists it.
public struct ConnectorOverview: Sendable, Equatable {
    public var name: String
    /// `source` or `sink`.
    public var type: String
    /// RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED, RESTARTING.
    public var state: String
    /// The topics it reads (sinks) or writes (sources), as far as known.
    public var topics: [String]
    /// A sink's consumer group (`connect-<name>`).
    public var groupID: String?
    /// Its dead-letter topic, if it has one.
    public var deadLetterTopic: String?

    public init(name: String, type: String, state: String, topics: [String], groupID: String?, deadLetterTopic: String?) {
        self.name = name
        self.type = type
        self.state = state
        self.topics = topics
        self.groupID = groupID
        self.deadLetterTopic = deadLetterTopic
    }
}

/// A connector's page.
public struct ConnectorDetail: Sendable, Equatable {
    public var overview: ConnectorOverview
    /// Each task's id and state.
    public var tasks: [(id: Int, state: String)]
    /// The config as stored (placeholders unresolved); masked before display.
    public var config: [String: String]
    /// The last error with its trace, when the connector or a task failed.
    public var trace: String?

    public init(overview: ConnectorOverview, tasks: [(id: Int, state: String)], config: [String: String], trace: String?) {
        self.overview = overview
        self.tasks = tasks
        self.config = config
        self.trace = trace
    }

    public static func == (a: ConnectorDetail, b: ConnectorDetail) -> Bool {
        a.overview == b.overview && a.tasks.map(\.id) == b.tasks.map(\.id) && a.tasks.map(\.state) == b.tasks.map(\.state)
            && a.config == b.config && a.trace == b.trace
    }
}
