@testable import ConnectWorker
import Foundation
import Logging
import PipelineCore
import PostgresSource
import XCTest

/// A `tributary connect` worker in this process on a free loopback port,
/// against the real servers (`scripts/services.sh up`, env file sourced).
/// Missing servers are a failure, never a skip.
final class InProcessWorker: @unchecked Sendable {
    // @unchecked: set up once, then only read.
    let service: ConnectService
    let directory: URL
    let curl: Curl
    let environment: [String: String]
    /// What the worker's connectors share (its cluster, its offset file).
    let context: WorkerContext
    private let task: Task<Void, any Error>

    /// Holds a connector's end after its graceful stop until released, so a
    /// restart stays in progress as long as a test needs.
    let gate = Gate()

    /// `tls`: an https listener with that certificate; `curl` then trusts `caFile`.
    init(
        label: String, auth: BasicAuth? = nil, tls: TLSSettings? = nil, caFile: String? = nil,
        gated: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws {
        environment = ProcessEnvironment.current
        for key in ["TRIBUTARY_BOOTSTRAP", "TRIBUTARY_MYSQL_URL", "TRIBUTARY_PG_URL", "TRIBUTARY_S3_ENDPOINT", "TRIBUTARY_S3_BUCKET", "AWS_REGION"]
        where (environment[key] ?? "").isEmpty {
            throw CurlFailure(description: "\(key) is not set: start the servers with scripts/services.sh up and source their env file")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("connect-\(label)-\(UInt32.random(in: 0...UInt32.max))")
        let kafka = KafkaConfiguration(bootstrapServers: environment["TRIBUTARY_BOOTSTRAP"]!)
        let logger = Logger(label: "test.connect")
        let context = WorkerContext(
            kafka: kafka, producerProperties: [:], consumerProperties: [:],
            sharedOffsetStore: FileOffsetStore(path: directory.appendingPathComponent("offsets.json").path), logger: logger)
        self.context = context
        let gate = self.gate
        var service = ConnectService(
            context: context, store: FileConfigStore(path: directory.appendingPathComponent("configs.json").path),
            listener: Listener(host: "127.0.0.1", port: 0, secure: tls != nil), auth: auth, logger: logger
        ) { spec in
            var connector = try ConnectorFactory.make(spec, context: context)
            guard gated(spec.name) else { return connector }
            let tasks = connector.tasks
            connector.tasks = {
                try await tasks().map { task in
                    WorkerTask(id: task.id) {
                        try? await task.run()
                        await gate.wait()
                    }
                }
            }
            return connector
        }
        service.tls = tls
        self.service = service
        task = Task { [service] in try await service.run() }
        let deadline = Date().addingTimeInterval(30)
        while service.boundListener.value == nil {
            guard Date() < deadline else { throw CurlFailure(description: "the worker did not listen within 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        curl = Curl(
            base: "\(tls == nil ? "http" : "https")://127.0.0.1:\(service.boundListener.value!.port)",
            options: caFile.map { ["--cacert", $0] } ?? [])
    }

    /// Polls the connector's status until `state` (bounded; no timing asserted).
    func waitForState(_ name: String, _ state: String, within seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let reply = try await curl("GET", "/connectors/\(name)/status")
            if reply.json?["connector"]?["state"]?.stringValue == state { return }
            guard Date() < deadline else { throw CurlFailure(description: "\(name) never reached \(state): \(reply)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Stops every connector gracefully and removes the state directory.
    func finish() async {
        gate.release()
        await service.herder.shutdown()
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A one-shot latch that ignores cancellation (the connector waiting on it was cancelled).
final class Gate: @unchecked Sendable {
    private let state = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Connector bodies for the tests, on unique names so runs never collide.
enum Bodies {
    static func s3Sink(topic: String, extra: String = "") -> String {
        """
        {"connector.class":"io.confluent.connect.s3.S3SinkConnector","tasks.max":"1","topics":"\(topic)",
         "s3.region":"${env:AWS_REGION}","s3.bucket.name":"${env:TRIBUTARY_S3_BUCKET}","store.url":"${env:TRIBUTARY_S3_ENDPOINT}",
         "flush.size":"5","format.class":"io.confluent.connect.s3.format.json.JsonFormat"\(extra)}
        """
    }

    static func mysqlSink(topic: String, extra: String = "") -> String {
        """
        {"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","tasks.max":"1","topics":"\(topic)",
         "connection.url":"${env:TRIBUTARY_MYSQL_URL}","insert.mode":"insert","auto.create":"true"\(extra)}
        """
    }

    static func postgresSource(table: String) -> String {
        """
        {"connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","tasks.max":"1","connection.url":"${env:TRIBUTARY_PG_URL}",
         "mode":"incrementing","incrementing.column.name":"index","topic.prefix":"P_","table.whitelist":"\(table)","poll.interval.ms":"1000"}
        """
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UInt32.random(in: 0...UInt32.max))" }
}
