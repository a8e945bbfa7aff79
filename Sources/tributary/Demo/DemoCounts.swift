import Foundation
import MySQLSink
import PipelineCore
import PostgresSource
import S3Sink

/// Where the demo's rows are, counted at one moment.
struct DemoCounts: Sendable {
    var postgres = 0
    var kafka: Int64 = 0
    var mysql = 0
    var mysqlDistinct = 0
    var s3Records = 0
    var s3Distinct = 0
    var s3Objects = 0
}

/// Reads the counts from each server (through the stage libraries' own clients).
struct DemoCounter: Sendable {
    let postgres: PostgresClient
    let mysql: MySQLConnection
    let s3: S3Client
    let admin: KafkaAdmin
    let table: String
    let topic: String
    let bucket: String

    var s3Prefix: String { "topics/\(topic)/" }

    func postgresRows() async throws -> Int {
        let rows = try await postgres.query("SELECT count(*) FROM \(SQL.quote(table))")
        return Int((rows.first?.first ?? nil) ?? "0") ?? 0
    }

    /// Records ever written to the topic (the sum of the high watermarks):
    /// the embedded broker deletes the oldest ones once the sinks read them.
    func kafkaMessages() async throws -> Int64 {
        guard let info = try await admin.topics().first(where: { $0.name == topic }) else { return 0 }
        var total: Int64 = 0
        for p in info.partitions {
            total += try await admin.watermarks(TopicPartition(topic, p.partition)).high
        }
        return total
    }

    /// Rows and distinct keys in the MySQL table (0 while it does not exist yet).
    func mysqlRows() async throws -> (rows: Int, distinct: Int) {
        let exists = try await mysql.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(topic)])
        guard (exists.first?.first ?? nil) == "1" else { return (0, 0) }
        let quoted = "`" + topic.replacingOccurrences(of: "`", with: "``") + "`"
        let rows = try await mysql.query("SELECT count(*), count(DISTINCT `index`) FROM \(quoted)")
        let row = rows.first ?? []
        return (Int((row.first ?? nil) ?? "0") ?? 0, Int((row.last ?? nil) ?? "0") ?? 0)
    }

    /// Objects, records and distinct `index` values under the topic's prefix.
    func s3Records() async throws -> (objects: Int, records: Int, distinct: Int) {
        let objects = try await s3.listAllObjects(bucket: bucket, prefix: s3Prefix).objects
        var records = 0
        var keys = Set<Int64>()
        for object in objects {
            let body = try await s3.getObject(bucket: bucket, key: object.key)
            for line in body.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                records += 1
                if case .int(let index)? = (try? JSON.parse(line))?["index"] { keys.insert(index) }
            }
        }
        return (objects.count, records, keys.count)
    }

    func all() async throws -> DemoCounts {
        var counts = DemoCounts()
        counts.postgres = try await postgresRows()
        counts.kafka = try await kafkaMessages()
        (counts.mysql, counts.mysqlDistinct) = try await mysqlRows()
        (counts.s3Objects, counts.s3Records, counts.s3Distinct) = try await s3Records()
        return counts
    }
}
