import MySQLSink
import PipelineCore

/// Records and messages the tests write.
enum Fixtures {
    static let userSchema = Schema.struct("users", [
        Field("id", .int64),
        Field("name", Schema.string.asOptional),
        Field("score", LogicalType.decimal(scale: 2, precision: 10, optional: true)),
        Field("joined", LogicalType.timestamp(optional: true)),
    ])

    static func user(_ id: Int64, name: String? = nil) -> SchemaAndValue {
        SchemaAndValue(schema: userSchema, value: .struct([
            NamedValue("id", .int(id)),
            NamedValue("name", name.map { .string($0) } ?? .null),
            NamedValue("score", .decimal(DecimalValue("\(id).25")!)),
            NamedValue("joined", .timestamp(1_700_000_000_000 + id)),
        ]))
    }

    static let keySchema = Schema.struct("key", [Field("id", .int64)])

    static func key(_ id: Int64) -> SchemaAndValue {
        SchemaAndValue(schema: keySchema, value: .struct([NamedValue("id", .int(id))]))
    }

    /// A message as a Connect JsonConverter would have written it.
    static func message(
        topic: String, partition: Int32 = 0, offset: Int64, key: SchemaAndValue? = nil, value: SchemaAndValue?
    ) -> KafkaMessage {
        let converter = JsonConverter(schemasEnabled: true)
        return KafkaMessage(
            topic: topic, partition: partition, offset: offset, key: try! converter.encode(key), value: try! converter.encode(value))
    }

    /// Messages for users `ids` on consecutive offsets from `from`.
    static func users(_ ids: [Int64], topic: String, partition: Int32 = 0, from: Int64 = 0, keyed: Bool = false) -> [KafkaMessage] {
        ids.enumerated().map { i, id in
            message(topic: topic, partition: partition, offset: from + Int64(i), key: keyed ? key(id) : nil, value: user(id, name: "user \(id)"))
        }
    }

    static func config(
        _ options: MySQLConnectionOptions, topics: [String], insertMode: MySQLSinkConfig.InsertMode = .insert,
        pkMode: MySQLSinkConfig.PrimaryKeyMode = .none, pkFields: [String] = []
    ) -> MySQLSinkConfig {
        var config = MySQLSinkConfig(
            name: "test-\(MySQLTestEnvironment.randomSuffix())", connection: options, topics: topics,
            insertMode: insertMode, pkMode: pkMode, pkFields: pkFields, autoCreate: true, autoEvolve: true)
        config.maxRetries = 2
        config.retryBackoff = .milliseconds(200)
        return config
    }
}
