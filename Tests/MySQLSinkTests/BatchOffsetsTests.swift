@testable import MySQLSink
import PipelineCore
import XCTest

/// The offsets a batch commits and the rows a re-delivery skips, worked out
/// per run of one partition instead of per record.
final class BatchOffsetsTests: XCTestCase {
    private static func message(_ topic: String, _ partition: Int32, _ offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: partition, offset: offset, key: nil, value: [])
    }

    private static func row(_ topic: String, _ partition: Int32, _ offset: Int64) -> SinkRow {
        SinkRow(
            topicPartition: TopicPartition(topic, partition), offset: offset, table: TableRef(name: "t"), operation: .write,
            columns: [ColumnSpec(name: "id", schema: .int64, isPrimaryKey: true)], keyCount: 1, values: [.int(offset)], shape: 1)
    }

    func testNextOffsetsAreOnePastEachPartitionsHighestOffsetHoweverTheRunsInterleave() {
        let messages = [
            Self.message("a", 0, 5), Self.message("a", 0, 6), Self.message("a", 1, 2), Self.message("b", 0, 9),
            Self.message("a", 0, 7), Self.message("a", 1, 1), Self.message("b", 0, 10),
        ]
        XCTAssertEqual(
            MySQLRecordWriter.nextOffsets(messages),
            [TopicPartition("a", 0): 8, TopicPartition("a", 1): 3, TopicPartition("b", 0): 11])
        XCTAssertEqual(MySQLRecordWriter.nextOffsets([]), [:])
    }

    func testRowsAtOrPastTheStoredOffsetAreKeptAndTheRestSkipped() {
        let rows = [Self.row("a", 0, 5), Self.row("a", 0, 6), Self.row("a", 1, 2), Self.row("a", 0, 7), Self.row("a", 1, 3)]
        let offsets = { (kept: [SinkRow]) in kept.map { "\($0.topicPartition)@\($0.offset)" } }
        // Nothing stored, or stored at the batch's first offsets: every row, in order.
        XCTAssertEqual(offsets(MySQLRecordWriter.notStored(rows, stored: [:])), offsets(rows))
        XCTAssertEqual(
            offsets(MySQLRecordWriter.notStored(rows, stored: [TopicPartition("a", 0): 5, TopicPartition("a", 1): 2])),
            offsets(rows))
        // A re-delivery: what MySQL already holds of a-0 is skipped, a-1 is untouched.
        XCTAssertEqual(
            offsets(MySQLRecordWriter.notStored(rows, stored: [TopicPartition("a", 0): 7])),
            offsets([Self.row("a", 1, 2), Self.row("a", 0, 7), Self.row("a", 1, 3)]))
        XCTAssertEqual(offsets(MySQLRecordWriter.notStored(rows, stored: [TopicPartition("a", 1): 9, TopicPartition("a", 0): 8])), [])
    }
}
