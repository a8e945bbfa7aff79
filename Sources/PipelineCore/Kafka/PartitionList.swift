import CRdKafka

/// Conversions between `rd_kafka_topic_partition_list_t` and Swift values.
enum PartitionList {
    /// A new native list; the caller destroys it.
    static func make(_ offsets: [(TopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(max(offsets.count, 1)))!
        for (tp, offset) in offsets {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    /// The entries of a native list with their offsets and per-entry errors.
    static func entries(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [(TopicPartition, Int64, rd_kafka_resp_err_t)] {
        guard let list else { return [] }
        var out: [(TopicPartition, Int64, rd_kafka_resp_err_t)] = []
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            out.append((TopicPartition(String(cString: element.topic), element.partition), element.offset, element.err))
        }
        return out
    }
}
