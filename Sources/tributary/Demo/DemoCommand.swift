import ArgumentParser
import ConnectWorker
import Foundation
import Logging
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// `tributary demo`: the seed's whole job on the local servers, with a summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the seed pipeline end to end on the local servers and print a summary.",
        discussion: """
            Resets the demo's table (USERS), MySQL table, S3 prefix and offsets when every
            server is on this machine, starts the three connectors of Examples/connectors,
            writes --rows users into Postgres while they run, waits until MySQL and S3 hold
            every row exactly once, prints a summary and exits 0. Kafka is a fresh embedded
            cluster unless --bootstrap-servers is given. Needs the variables that
            `scripts/services.sh env` prints.

            With --cdc the source is Debezium's PostgreSQL connector (log-based CDC): half the
            users are snapshotted, half streamed, then a tenth of the rows is updated and every
            twentieth deleted; the MySQL sink upserts and deletes by key, S3 keeps every change
            event. It ends when MySQL equals Postgres row for row.
            """
    )

    @Option(help: "Users to write.") var rows: Int64 = 10_000
    @Option(help: "Rows per second while writing (default: as fast as possible).") var rate: Double?
    @Option(help: "Directory with the three connector JSON files.") var connectors = "Examples/connectors"
    @Option(help: "Kafka to use instead of a fresh embedded cluster.") var bootstrapServers: String?
    @Option(help: "Give up after this many seconds.") var timeout: Double = 600
    @Flag(help: "Capture the table's changes from the WAL (Debezium's PostgreSQL connector), updates and deletes included.") var cdc = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingBootstrap.once(logging.logLevel == .info ? .warning : logging.logLevel)
        let env = try DemoEnvironment.fromProcess()
        let specs = try DemoSpecs.load(directory: connectors)
        let table = specs.table, topic = specs.topic

        var embedded: EmbeddedKafka?
        let servers: String
        if let bootstrapServers {
            servers = bootstrapServers
        } else {
            let cluster = try EmbeddedKafka(brokers: 3)
            servers = cluster.bootstrapServers
            embedded = cluster
        }
        var kafka = KafkaConfiguration(bootstrapServers: servers)
        kafka.embedded = embedded  // its clients keep records until the demo's sinks read them
        if cdc {
            try await CDCDemo(rows: rows, rate: rate, specs: specs, env: env, kafka: kafka, timeout: timeout).run()
            withExtendedLifetime(embedded) {}
            return
        }
        let postgres = try env.postgres()
        try await postgres.connect()
        let mysql = try env.mysql()
        try await mysql.connect()
        let s3 = try env.s3()
        let counter = DemoCounter(
            postgres: postgres, mysql: mysql, s3: s3, admin: try KafkaAdmin(configuration: kafka),
            table: table, topic: topic, bucket: env.s3Bucket)

        say("Tributary demo: \(rows) users, \(table) → Kafka \(topic) → MySQL + S3 (s3://\(env.s3Bucket)/\(counter.s3Prefix))")
        say("Kafka: \(embedded == nil ? servers : "embedded cluster at \(servers)")")
        try await DemoReset(env: env, counter: counter, specs: specs).run()

        let writer = TableWriter(client: postgres, table: usersTable(TableName(table), seed: UserGeneratorSeed.demo))
        try await writer.createTableIfMissing()
        let pipeline = try DemoPipeline(specs.all, kafka: kafka, offsetFile: DemoSpecs.offsetFile)

        let started = Date()
        say("writing \(rows) users into Postgres while the pipeline runs…")
        let generated = try await writer.generate(GenerateOptions(rows: rows, rowsPerSecond: rate, seed: UserGeneratorSeed.demo))
        let generatedAt = Date()
        say("  \(generated.inserted) rows in \(seconds(generatedAt.timeIntervalSince(started))) (\(Int(generated.rowsPerSecond)) rows/s)")

        let waiter = DemoWaiter(counter: counter, kafka: kafka, s3GroupID: ConnectorSpec.sinkGroupID(connector: specs.s3.name), expected: Int(rows))
        let landed = try await pipeline.stop {
            try await waiter.waitForEveryRow(deadline: started.addingTimeInterval(timeout), failure: pipeline.failure)
        }

        let counts = try await counter.all()
        DemoSummary(
            rows: Int(rows), counts: counts, started: started, generatedAt: generatedAt, landed: landed,
            generateRate: generated.rowsPerSecond
        ).print()
        await postgres.close()
        await mysql.close()
        s3.shutdown()
        withExtendedLifetime(embedded) {}
        guard counts.mysql == Int(rows), counts.mysqlDistinct == Int(rows), counts.s3Records == Int(rows), counts.s3Distinct == Int(rows) else {
            throw PipelineError.other("demo: not every row landed exactly once (see the summary)")
        }
    }
}

/// The generator seed the demo uses, so every demo writes the same users.
enum UserGeneratorSeed {
    static let demo: UInt64 = 2024
}

func say(_ text: String) {
    print(text)
    fflush(nil)
}

func seconds(_ interval: TimeInterval) -> String {
    String(format: "%.2f s", interval)
}
