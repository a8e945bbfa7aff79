import CRdKafka
import Foundation

/// Blocking admin requests, run on the admin's worker thread.
enum AdminCalls {
    /// Sends CreateTopics; false when the broker never answered (no such API).
    static func createTopics(_ rk: OpaquePointer, name: String, partitions: Int, replicationFactor: Int, config: [String: String]) throws -> Bool {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errorText, errorText.count) else {
            throw PipelineError.config(key: name, reason: stringFromBuffer(errorText))
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        for (key, value) in config { _ = rd_kafka_NewTopic_set_config(topic, key, value) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, 5_000, &errorText, errorText.count)
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [OpaquePointer?] = [topic]
        rd_kafka_CreateTopics(rk, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, 10_000) else { return false }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError == RD_KAFKA_RESP_ERR__TIMED_OUT { return false }
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw kafkaError("create topic \(name)", eventError, detail: String(cString: rd_kafka_event_error_string(event)))
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event), let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return true }
        for i in 0..<count {
            let err = rd_kafka_topic_result_error(results[i])
            if err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT { return false }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let detail = rd_kafka_topic_result_error_string(results[i]).map { String(cString: $0) }
                throw kafkaError("create topic \(name)", err, detail: detail)
            }
        }
        return true
    }

    /// Asks for the topic's metadata until the broker has auto-created it; returns its partition count.
    static func autoCreate(_ rk: OpaquePointer, name: String) throws -> Int {
        let rkt = rd_kafka_topic_new(rk, name, nil)
        defer { rd_kafka_topic_destroy(rkt) }
        let deadline = Date().addingTimeInterval(15)
        var lastError = RD_KAFKA_RESP_ERR_NO_ERROR
        while Date() < deadline {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            lastError = rd_kafka_metadata(rk, 0, rkt, &metadata, 5_000)
            if lastError == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                defer { rd_kafka_metadata_destroy(metadata) }
                if metadata.pointee.topic_cnt > 0 {
                    let t = metadata.pointee.topics[0]
                    lastError = t.err
                    if t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0 { return Int(t.partition_cnt) }
                }
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw kafkaError("auto-create topic \(name)", lastError)
    }
}

extension AdminCalls {
    /// The low (log start) and high (next offset) watermarks of a partition, asked of its leader.
    static func watermarks(_ rk: OpaquePointer?, _ tp: TopicPartition) throws -> (low: Int64, high: Int64) {
        guard let marks = try watermarks(rk, topic: tp.topic, partitions: [tp.partition])[tp.partition] else {
            throw kafkaError("query watermarks of \(tp)", RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        }
        return marks
    }

    /// The low and high watermarks of `partitions` of `topic`: two ListOffsets
    /// requests per leader (`rd_kafka_offsets_for_times` with the earliest and
    /// latest markers), not two round trips per partition one after another.
    ///
    /// Never `rd_kafka_query_watermark_offsets`: in librdkafka before 2.3 it
    /// waits forever for a broker that is down (librdkafka#2588), where
    /// `rd_kafka_offsets_for_times` gives up after its timeout.
    static func watermarks(_ rk: OpaquePointer?, topic: String, partitions: [Int32]) throws -> [Int32: (low: Int64, high: Int64)] {
        guard !partitions.isEmpty else { return [:] }
        func ask(_ marker: Int64) throws -> [Int32: Int64] {
            let list = PartitionList.make(partitions.map { (TopicPartition(topic, $0), marker) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_offsets_for_times(rk, list, 10_000)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError("query watermarks of \(topic)", err) }
            var out: [Int32: Int64] = [:]
            for (tp, offset, err) in PartitionList.entries(list) {
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError("query watermarks of \(tp)", err) }
                out[tp.partition] = offset
            }
            return out
        }
        let low = try ask(Int64(RD_KAFKA_OFFSET_BEGINNING)), high = try ask(Int64(RD_KAFKA_OFFSET_END))
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in partitions {
            guard let l = low[partition], let h = high[partition] else { throw kafkaError("query watermarks of \(topic)[\(partition)]", RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) }
            marks[partition] = (l, h)
        }
        return marks
    }

    /// The committed offsets of the handle's group for `partitions` (absent where none).
    static func committed(_ rk: OpaquePointer?, _ partitions: [TopicPartition], timeoutMs: Int32, operation: String) throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = PartitionList.make(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(rk, list, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(operation, err) }
        var out: [TopicPartition: Int64] = [:]
        for (tp, offset, _) in PartitionList.entries(list) where offset >= 0 { out[tp] = offset }
        return out
    }
}
