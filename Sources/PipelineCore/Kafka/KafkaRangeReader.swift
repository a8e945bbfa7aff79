import CRdKafka
import Foundation

/// Reads fixed offset ranges of partitions without joining a consumer group
/// or committing anything: for recovery, where a stage needs to see exactly
/// which records it had already written before a crash.
public enum KafkaRangeReader {
    /// The messages in `ranges` (lower bound inclusive, upper exclusive),
    /// in offset order per partition. Fails when a range starts below the
    /// partition's log start (the records are gone) or cannot be read in time.
    public static func read(
        configuration: KafkaConfiguration, ranges: [TopicPartition: Range<Int64>], timeout: Duration = .seconds(30)
    ) async throws -> [KafkaMessage] {
        let wanted = ranges.filter { !$0.value.isEmpty }
        guard !wanted.isEmpty else { return [] }
        let worker = BlockingWorker(name: "kafka-range-reader")
        defer { worker.shutdown() }
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        return try await worker.run {
            let conf = try configuration.with([
                "group.id": "tributary-range-reader-\(UUID().uuidString)",
                "enable.auto.commit": "false",
                "enable.auto.offset.store": "false",
                "auto.offset.reset": "error",
            ]).makeNativeConfig(defaults: [:])
            let rk = try makeKafkaHandle(RD_KAFKA_CONSUMER, conf)
            defer {
                _ = rd_kafka_consumer_close(rk)
                rd_kafka_destroy(rk)
            }
            let list = PartitionList.make(wanted.map { ($0.key, $0.value.lowerBound) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_assign(rk, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError("assign ranges", err) }
            var remaining = wanted
            var out: [KafkaMessage] = []
            while !remaining.isEmpty {
                guard Date() < deadline else {
                    throw PipelineError.kafka(
                        operation: "read \(remaining.keys.sorted().map(\.description).joined(separator: ", "))", code: -1,
                        reason: "timed out", retriable: true)
                }
                guard let raw = rd_kafka_consumer_poll(rk, 200) else { continue }
                defer { rd_kafka_message_destroy(raw) }
                let m = raw.pointee
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                let tp = TopicPartition(topic, m.partition)
                if m.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || m.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE {
                    let low = (try? AdminCalls.watermarks(rk, tp))?.low ?? 0
                    throw PipelineError.recordsPruned(tp, committed: wanted[tp]?.lowerBound ?? m.offset, logStart: low)
                }
                if m.err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
                guard let range = remaining[tp] else { continue }
                if range.contains(m.offset) { out.append(KafkaMessage(native: raw)) }
                if m.offset + 1 >= range.upperBound { remaining[tp] = nil }
            }
            return out
        }
    }
}
