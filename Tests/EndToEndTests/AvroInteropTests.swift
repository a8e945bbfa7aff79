import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink
import XCTest

/// Avro between Tributary and Confluent's own Python client (confluent-kafka's
/// AvroSerializer and AvroDeserializer, fastavro underneath), through
/// `tributary registry` in a child process and the real broker, MySQL,
/// MinIO-compatible S3 and Postgres.
final class AvroInteropTests: XCTestCase {
    private var registry: RegistryChild?

    override func tearDown() async throws {
        registry?.stop()
    }

    private func start(_ label: String, extra: [String] = []) async throws -> (E2EEnvironment, RegistryChild) {
        let environment = try E2EEnvironment.load()
        let registry = try await RegistryChild(environment: environment, label: label, extra: extra)
        self.registry = registry
        return (environment, registry)
    }

    private func uniqueTopic(_ label: String) -> String { "\(label)_\(UInt32.random(in: 0...UInt32.max))" }

    /// Python writes Avro (two schema versions); the MySQL sink creates and
    /// then evolves the table, and the S3 sink writes the records as JSON.
    func testPythonAvroReachesMySQLWithEvolutionAndS3AsJSON() async throws {
        let (env, registry) = try await start("sinks")
        let topic = uniqueTopic("avro_customers")
        try await TopicReader(environment: env, topic: topic).create(partitions: 1, control: env.brokerControl)
        try await PythonAvro.run(["produce", registry.url, env.bootstrapServers, topic, "v1", "1", "3"])
        try await PythonAvro.run(["produce", registry.url, env.bootstrapServers, topic, "v2", "4", "2"])
        let kafka = KafkaConfiguration(bootstrapServers: env.bootstrapServers)
        let partition = TopicPartition(topic, 0)
        let messages = try await KafkaRangeReader.read(configuration: kafka, ranges: [partition: 0..<5])
        XCTAssertEqual(messages.count, 5)

        // MySQL: auto.create from v1, auto.evolve for v2's optional field.
        let admin = MySQLConnection(options: try MySQLConnectionOptions(url: env.mysqlURL))
        let database = "avro_\(UInt32.random(in: 0...UInt32.max))"
        try await admin.execute("CREATE DATABASE `\(database)`")
        var config = try MySQLSinkConfig(properties: [
            "name": "avro-mysql", "topics": topic, "connection.url": env.mysqlURL, "auto.create": "true", "auto.evolve": "true",
            "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id",
            "value.converter": "io.confluent.connect.avro.AvroConverter", "value.converter.schema.registry.url": registry.url,
        ])
        config.connection.database = database
        let writer = MySQLRecordWriter(config: config)
        let first = try await writer.write(Array(messages[0..<3]))
        XCTAssertEqual(first.written, 3)
        let evolved = try await writer.write(Array(messages[3...]))
        XCTAssertEqual(evolved.written, 2)
        await writer.close()
        let check = MySQLConnection(options: config.connection)
        let rows = try await check.query("SELECT id, name, email, balance, born, joined, score, active, nickname FROM `\(topic)` ORDER BY id")
        await check.close()
        _ = try? await admin.execute("DROP DATABASE `\(database)`")
        await admin.close()
        XCTAssertEqual(rows.count, 5)
        XCTAssertEqual(rows[0], ["1", "customer 1", "c1@example.com", "100.01", "1990-01-01", "2024-05-01 12:00:01.000", "1.5", "1", nil])
        XCTAssertEqual(rows[1][2], nil)
        XCTAssertEqual(rows[4], ["5", "customer 5", "c5@example.com", "500.05", "1990-01-05", "2024-05-01 12:00:05.000", "5.5", "1", "nick 5"])

        // S3: JsonFormat writes each record's value as JSON (decimals as base64, as Connect's JsonConverter).
        let topicsDir = "avro-\(UInt32.random(in: 0...UInt32.max))"
        let s3Config = try S3SinkConfig(properties: [
            "name": "avro-s3", "topics": topic, "s3.bucket.name": env.s3Bucket, "s3.region": env.s3Region, "store.url": env.s3Endpoint,
            "flush.size": "5", "topics.dir": topicsDir, "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "value.converter": "io.confluent.connect.avro.AvroConverter", "value.converter.schema.registry.url": registry.url,
        ])
        let client = try S3Client(configuration: S3ClientConfiguration(
            region: env.s3Region, credentials: try Credentials.fromEnvironment(ProcessEnvironment.current), endpoint: env.s3Endpoint))
        defer { client.shutdown() }
        let task = try S3SinkTask(config: s3Config, client: client, commit: { _ in })
        try await task.put(messages)
        let objects = try await client.listAllObjects(bucket: env.s3Bucket, prefix: topicsDir + "/").objects
        XCTAssertEqual(objects.map(\.key), ["\(topicsDir)/\(topic)/partition=0/\(topic)+0+0000000000.json"])
        let body = try await client.getObject(bucket: env.s3Bucket, key: objects[0].key)
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(String(lines[0]), #"{"id":1,"name":"customer 1","email":"c1@example.com","balance":"JxE=","born":7305,"joined":1714564801000,"score":1.5,"active":true}"#)
        XCTAssertTrue(lines[4].hasSuffix(#","nickname":"nick 5"}"#), String(lines[4]))
    }

    /// Wrong magic byte, an id the registry does not have, truncated Avro:
    /// each stops the sink with an error naming topic-partition@offset.
    func testBadAvroInputNamesTheMessage() async throws {
        let (env, registry) = try await start("bad")
        let topic = uniqueTopic("avro_bad")
        try await TopicReader(environment: env, topic: topic).create(partitions: 1, control: env.brokerControl)
        try await PythonAvro.run(["produce", registry.url, env.bootstrapServers, topic, "v1", "1", "1"])
        let good = try await KafkaRangeReader.read(
            configuration: KafkaConfiguration(bootstrapServers: env.bootstrapServers), ranges: [TopicPartition(topic, 0): 0..<1])[0]
        let settings = RegistryConverterSettings(urls: [registry.url])
        let converter = AvroConverter(settings: settings, isKey: false)
        let cases: [(String, [UInt8], String)] = [
            ("magic", [1] + good.value!.dropFirst(), "unknown magic byte 1"),
            ("unknown id", [0, 0x7f, 0, 0, 1] + good.value!.dropFirst(5), "schema id 2130706433 is not in the registry"),
            ("truncated", Array(good.value!.dropLast(4)), "truncated Avro data"),
        ]
        for (name, bytes, reason) in cases {
            let message = KafkaMessage(topic: topic, partition: 0, offset: 41, key: nil, value: bytes)
            try await converter.prefetch([message.value])
            XCTAssertThrowsError(try Record(decoding: message, keyConverter: RecordConverter.json(JsonConverter()), valueConverter: RecordConverter.avro(converter)), name) { error in
                XCTAssertTrue("\(error)".contains("\(topic)-0@41"), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(name): \(error)")
            }
        }
        XCTAssertNoThrow(try Record(decoding: good, keyConverter: RecordConverter.json(JsonConverter()), valueConverter: RecordConverter.avro(converter)))

        // In the MySQL sink, as with JSON: errors.tolerance=none stops at the
        // bad record naming it; all skips it (no dead-letter topic here) and writes the rest.
        let admin = MySQLConnection(options: try MySQLConnectionOptions(url: env.mysqlURL))
        let database = "avro_bad_\(UInt32.random(in: 0...UInt32.max))"
        try await admin.execute("CREATE DATABASE `\(database)`")
        let properties = [
            "name": "avro-bad", "topics": topic, "connection.url": env.mysqlURL, "auto.create": "true",
            "value.converter": "io.confluent.connect.avro.AvroConverter", "value.converter.schema.registry.url": registry.url,
        ]
        let bad = KafkaMessage(topic: topic, partition: 0, offset: 1, key: nil, value: [1] + good.value!.dropFirst())
        for tolerance in ["none", "all"] {
            var config = try MySQLSinkConfig(properties: properties.merging(["errors.tolerance": tolerance]) { _, new in new })
            config.connection.database = database
            let writer = MySQLRecordWriter(config: config)
            if tolerance == "none" {
                do {
                    _ = try await writer.write([good, bad])
                    XCTFail("a bad record must stop the batch")
                } catch {
                    XCTAssertTrue("\(error)".contains("\(topic)-0@1") && "\(error)".contains("unknown magic byte 1"), "\(error)")
                }
            } else {
                let result = try await writer.write([good, bad])
                XCTAssertEqual(result.written, 1)
                XCTAssertEqual(result.failed, 1)
            }
            await writer.close()
        }
        _ = try? await admin.execute("DROP DATABASE `\(database)`")
        await admin.close()
    }

    /// The JDBC source writes Avro keys and values; Confluent's deserializer reads them.
    func testSourceAvroIsReadByConfluentsDeserializer() async throws {
        let lines = try await sourceRows(converter: "io.confluent.connect.avro.AvroConverter", pythonFormat: [])
        XCTAssertEqual(lines[0], #"{"key":{"id":1},"value":{"at":1704067201000,"balance":"1.25","born":"2000-01-02","id":1,"name":"row 1","note":"odd","ok":false}}"#)
        XCTAssertEqual(try JSON.parse(lines[1])["value"]?["note"], .null)
    }

    /// The JDBC source with JsonSchemaConverter; Confluent's JSONDeserializer validates and reads it.
    func testSourceJsonSchemaIsReadByConfluentsDeserializer() async throws {
        let lines = try await sourceRows(converter: "io.confluent.connect.json.JsonSchemaConverter", pythonFormat: ["json"])
        XCTAssertEqual(lines[0], #"{"key":{"id":1},"value":{"at":1704067201000,"balance":1.25,"born":10958,"id":1,"name":"row 1","note":"odd","ok":false}}"#)
        XCTAssertEqual(try JSON.parse(lines[1])["value"]?["note"], .null)
    }

    /// Four rows of a fresh table through the JDBC source with `converter` for
    /// keys and values, read back by Confluent's Python deserializer: its lines, by id.
    private func sourceRows(converter: String, pythonFormat: [String]) async throws -> [String] {
        let (env, registry) = try await start("source")
        let table = "avro_src_\(UInt32.random(in: 0...UInt32.max))"
        let pg = PostgresClient(settings: try ConnectionSettings(url: env.postgresURL), name: "avro-test")
        try await pg.query("CREATE TABLE \"\(table)\" (id bigint PRIMARY KEY, name text NOT NULL, note text, balance numeric(10,2), born date, at timestamp, ok boolean NOT NULL)")
        try await pg.query("INSERT INTO \"\(table)\" SELECT g, 'row ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'odd' END, g * 1.25, DATE '2000-01-01' + g, TIMESTAMP '2024-01-01 00:00:00' + g * INTERVAL '1 second', g % 2 = 0 FROM generate_series(1, 4) g")
        let prefix = "avro_"
        let offsets = NSTemporaryDirectory() + "\(table)-offsets.json"
        let config = try PostgresSourceConfig(properties: [
            "name": "avro-source", "connection.url": env.postgresURL, "topic.prefix": prefix, "poll.interval.ms": "50",
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "offset.storage.file.filename": offsets,
            "key.converter": converter, "key.converter.schema.registry.url": registry.url,
            "value.converter": converter, "value.converter.schema.registry.url": registry.url,
        ])
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: env.bootstrapServers))
        let delivered = Locked(0)
        let source = PostgresSource(config: config, producer: producer, events: { event in
            if case .delivered(_, _, let rows, _) = event { delivered.withLock { $0 += rows } }
        })
        let run = Task { try await source.run() }
        let deadline = Date().addingTimeInterval(30)
        while delivered.value < 4 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        run.cancel()
        try await run.value
        _ = try? await pg.query("DROP TABLE \"\(table)\"")
        await pg.close()
        XCTAssertEqual(delivered.value, 4)
        let lines = try await PythonAvro.run(["consume", registry.url, env.bootstrapServers, prefix + table, "4"] + pythonFormat)
        XCTAssertEqual(lines.count, 4)
        func id(_ line: String) -> Int64 {
            if case .int(let id)? = (try? JSON.parse(line))?["key"]?["id"] { return id }
            return -1
        }
        // Compact, as JSON.text writes it (Python's json.dumps puts spaces after separators).
        return try lines.sorted { id($0) < id($1) }.map { try JSON.parse($0).text }
    }

    /// Basic auth from USER_INFO, the three subject name strategies,
    /// `auto.register.schemas=false` and `use.latest.version`; a refused
    /// password never appears in the error.
    func testConverterSubjectsLatestVersionAndBasicAuth() async throws {
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("registry-users-\(UInt32.random(in: 0...UInt32.max))")
        try "alice: s3cret\n".write(to: credentials, atomically: true, encoding: .utf8)
        let (_, registry) = try await start("auth", extra: ["--registry-credentials-file", credentials.path])
        let user = Secret("alice:s3cret")
        let schema = Schema.struct("shop.customer", [Field("id", .int64), Field("name", Schema.string.asOptional)])
        let value = Value.struct([NamedValue("id", .int(7)), NamedValue("name", .null)])
        func converter(_ strategy: SubjectNameStrategy = .topicName, autoRegister: Bool = true, latest: Bool = false, userInfo: Secret? = user) -> AvroConverter {
            AvroConverter(settings: RegistryConverterSettings(
                urls: [registry.url], userInfo: userInfo, autoRegister: autoRegister, useLatestVersion: latest, subjectNameStrategy: strategy), isKey: false)
        }
        let client = SchemaRegistryClient(urls: [registry.url], userInfo: user)
        let byTopic = try await converter().encoder(for: schema, topic: "orders")
        let byRecord = try await converter(.recordName).encoder(for: schema, topic: "orders")
        let byTopicRecord = try await converter(.topicRecordName).encoder(for: schema, topic: "orders")
        for (subject, encoder) in [("orders-value", byTopic), ("shop.customer", byRecord), ("orders-shop.customer", byTopicRecord)] {
            let latest = try await client.latest(subject: subject)
            XCTAssertEqual(latest.id, encoder.id, subject)
        }
        // The same schema has one id under every subject.
        XCTAssertEqual(Set([byTopic.id, byRecord.id, byTopicRecord.id]).count, 1)

        // Without registration: found when registered, 40401 when not.
        let lookedUp = try await converter(autoRegister: false).encoder(for: schema, topic: "orders")
        XCTAssertEqual(lookedUp.id, byTopic.id)
        do {
            _ = try await converter(autoRegister: false).encoder(for: schema, topic: "unknown")
            XCTFail("an unregistered subject must not be written")
        } catch let error as SchemaRegistryError {
            XCTAssertEqual(error.status, 404, "\(error)")
        }

        // use.latest.version writes with the subject's latest schema, whose fields come in another order.
        let reordered = #"{"type":"record","name":"customer","namespace":"shop","fields":[{"name":"name","type":["null","string"],"default":null},{"name":"id","type":"long"},{"name":"extra","type":"int","default":5}]}"#
        let latestID = try await client.register(subject: "reordered-value", schema: RegisteredSchema(schema: reordered))
        let latest = try await converter(autoRegister: false, latest: true).encoder(for: schema, topic: "reordered")
        XCTAssertEqual(latest.id, latestID)
        let bytes = try latest.encode(value)
        XCTAssertEqual(Array(bytes.prefix(5)), ConfluentWireFormat.header(id: latestID))
        let reader = converter(autoRegister: false)
        try await reader.prefetch([bytes])
        XCTAssertEqual(try reader.decode(bytes)?.value, .struct([NamedValue("name", .null), NamedValue("id", .int(7)), NamedValue("extra", .int(5))]))

        // A wrong password: refused, and never shown.
        do {
            _ = try await converter(userInfo: Secret("alice:wrong-pass")).encoder(for: schema, topic: "orders")
            XCTFail("a wrong password must be refused")
        } catch let error as SchemaRegistryError {
            XCTAssertEqual(error.status, 401, "\(error)")
            XCTAssertFalse("\(error)".contains("wrong-pass"), "\(error)")
        }
        try? FileManager.default.removeItem(at: credentials)
    }

    /// Python's JSONSerializer (JSON Schema in the registry) -> the MySQL sink with JsonSchemaConverter.
    func testPythonJsonSchemaReachesMySQL() async throws {
        let (env, registry) = try await start("jsonschema")
        let topic = uniqueTopic("jsonschema_customers")
        try await TopicReader(environment: env, topic: topic).create(partitions: 1, control: env.brokerControl)
        try await PythonAvro.run(["produce-json", registry.url, env.bootstrapServers, topic, "3"])
        let messages = try await KafkaRangeReader.read(
            configuration: KafkaConfiguration(bootstrapServers: env.bootstrapServers), ranges: [TopicPartition(topic, 0): 0..<3])
        let admin = MySQLConnection(options: try MySQLConnectionOptions(url: env.mysqlURL))
        let database = "jsonschema_\(UInt32.random(in: 0...UInt32.max))"
        try await admin.execute("CREATE DATABASE `\(database)`")
        var config = try MySQLSinkConfig(properties: [
            "name": "jsonschema-mysql", "topics": topic, "connection.url": env.mysqlURL, "auto.create": "true",
            "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id",
            "value.converter": "io.confluent.connect.json.JsonSchemaConverter", "value.converter.schema.registry.url": registry.url,
        ])
        config.connection.database = database
        let writer = MySQLRecordWriter(config: config)
        let result = try await writer.write(messages)
        await writer.close()
        let check = MySQLConnection(options: config.connection)
        let rows = try await check.query("SELECT id, name, email, score FROM `\(topic)` ORDER BY id")
        await check.close()
        _ = try? await admin.execute("DROP DATABASE `\(database)`")
        await admin.close()
        XCTAssertEqual(result.written, 3)
        XCTAssertEqual(rows, [["1", "customer 1", "c1@example.com", "1.5"], ["2", "customer 2", nil, "2.5"], ["3", "customer 3", "c3@example.com", "3.5"]])
    }
}
