import PipelineCore

/// Consumed Kafka offsets kept in MySQL, written in the same transaction as
/// the rows they cover: after a crash the table and the data agree, whatever
/// Kafka's committed offsets say. That is what makes insert mode exactly-once.
///
/// One row per (group, topic, partition) holds the next offset to read.
/// `-1` marks a row created only so there is something to lock.
struct MySQLOffsetTable: Sendable {
    let table: TableRef
    let groupID: String

    var createTable: String {
        """
        CREATE TABLE IF NOT EXISTS \(table.sql) (
          `group_id` VARCHAR(255) NOT NULL,
          `topic` VARCHAR(255) NOT NULL,
          `kafka_partition` INT NOT NULL,
          `next_offset` BIGINT NOT NULL,
          `updated_at` TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
          PRIMARY KEY (`group_id`, `topic`, `kafka_partition`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """
    }

    /// Every stored offset of the group (for seeking on assignment).
    func load(_ session: MySQLSession) throws(MySQLError) -> [TopicPartition: Int64] {
        let rows = try session.query(
            "SELECT `topic`, `kafka_partition`, `next_offset` FROM \(table.sql) WHERE `group_id` = ? AND `next_offset` >= 0",
            [.text(groupID)])
        return Self.offsets(rows)
    }

    /// Locks the rows of `partitions` until the transaction ends and returns
    /// their stored offsets. Creating missing rows first means there is always
    /// a row to lock: two sinks that both think they own a partition (one of
    /// them a zombie after a rebalance) then take turns instead of both
    /// writing the same records.
    /// `creating` lists partitions that may have no row yet.
    func lock(_ partitions: [TopicPartition], creating: [TopicPartition], session: MySQLSession) throws(MySQLError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        if !creating.isEmpty {
            let tuples = Array(repeating: "(?,?,?,-1)", count: creating.count).joined(separator: ",")
            try session.execute(
                "INSERT IGNORE INTO \(table.sql) (`group_id`, `topic`, `kafka_partition`, `next_offset`) VALUES \(tuples)",
                creating.flatMap { [.text(groupID), .text($0.topic), .int(Int64($0.partition))] })
        }
        let condition = Array(repeating: "(`topic` = ? AND `kafka_partition` = ?)", count: partitions.count).joined(separator: " OR ")
        let rows = try session.query(
            "SELECT `topic`, `kafka_partition`, `next_offset` FROM \(table.sql) WHERE `group_id` = ? AND (\(condition)) FOR UPDATE",
            [.text(groupID)] + partitions.flatMap { [SQLValue.text($0.topic), .int(Int64($0.partition))] })
        return Self.offsets(rows).filter { $0.value >= 0 }
    }

    /// Records `offsets` (next offset to read per partition); never moves one back.
    func store(_ offsets: [TopicPartition: Int64], session: MySQLSession) throws(MySQLError) {
        try upsert(offsets, existing: "GREATEST(`next_offset`, VALUES(`next_offset`))", session: session)
    }

    /// Sets the partitions' offsets as given, back as well as forward: a
    /// KIP-875 alter of the stopped connector, which then resumes there.
    func replace(_ offsets: [TopicPartition: Int64], session: MySQLSession) throws(MySQLError) {
        try upsert(offsets, existing: "VALUES(`next_offset`)", session: session)
    }

    /// Inserts the partitions' rows; an existing row's offset becomes `existing`.
    private func upsert(_ offsets: [TopicPartition: Int64], existing: String, session: MySQLSession) throws(MySQLError) {
        guard !offsets.isEmpty else { return }
        let sorted = offsets.sorted { $0.key < $1.key }
        let tuples = Array(repeating: "(?,?,?,?)", count: sorted.count).joined(separator: ",")
        try session.execute(
            "INSERT INTO \(table.sql) (`group_id`, `topic`, `kafka_partition`, `next_offset`) VALUES \(tuples) "
                + "ON DUPLICATE KEY UPDATE `next_offset` = \(existing)",
            sorted.flatMap { [.text(groupID), .text($0.key.topic), .int(Int64($0.key.partition)), .int($0.value)] })
    }

    private static func offsets(_ rows: [[String?]]) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for row in rows {
            guard let topic = row[0], let partition = row[1].flatMap({ Int32($0) }), let offset = row[2].flatMap({ Int64($0) }) else { continue }
            result[TopicPartition(topic, partition)] = offset
        }
        return result
    }
}
