import Foundation
import PipelineCore

/// The embedded broker's control FIFO, whose path scripts/services.sh
/// exports as `TRIBUTARY_BROKER_CONTROL`: fault and topic commands for
/// the `tributary broker` of a test run ("down 1", "errors 0 19,19", "create T 4").
public enum BrokerControl {
    /// The FIFO's path from the environment; an error saying what to source when unset.
    public static func path() throws -> String {
        guard let control = ProcessInfo.processInfo.environment["TRIBUTARY_BROKER_CONTROL"], !control.isEmpty else {
            throw PipelineError.other("TRIBUTARY_BROKER_CONTROL is not set; source the env file scripts/services.sh writes")
        }
        return control
    }

    /// Writes `commands` to the FIFO at `control`, one line each. Each is one
    /// short write (under PIPE_BUF), so it stays whole beside other writers.
    public static func send(_ commands: [String], to control: String) throws {
        guard let fifo = FileHandle(forWritingAtPath: control) else {
            throw PipelineError.other("cannot open the broker control FIFO \(control)")
        }
        for command in commands { fifo.write(Data("\(command)\n".utf8)) }
        try fifo.close()
    }

    /// Creates `topic` with `partitions` partitions (the broker has no
    /// CreateTopics API; auto-creation would give it 4) and waits, up to
    /// 20 s, until the cluster at `bootstrapServers` lists it so.
    public static func createTopic(_ topic: String, partitions: Int, bootstrapServers: String, control: String) async throws {
        try send(["create \(topic) \(partitions)"], to: control)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: bootstrapServers))
        let deadline = ContinuousClock.now + .seconds(20)
        while try await admin.topics().first(where: { $0.name == topic })?.partitions.count != partitions {
            guard ContinuousClock.now < deadline else {
                throw PipelineError.other("topic \(topic) with \(partitions) partitions did not appear; see the broker's log (kafka.log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
