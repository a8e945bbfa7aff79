import CRdKafka

/// Keeps a consumer's fetches going while the application drains its queue.
///
/// librdkafka stops fetching once the consumer's queue holds
/// `queued.max.messages.kbytes`, and decides again only when the broker
/// thread that leads the partition next wakes. Before 2.2 (which added
/// `fetch.queue.backoff.ms`; Debian 12 ships 2.0.2) nothing wakes it for
/// room in the queue, so it sleeps out its one-second loop however fast
/// the application consumes: each sink read one queue's worth (about
/// 11,700 records of 1.4 KB at 16 MiB) a second, then waited (BENCHMARKS.md
/// run 13, from librdkafka's `debug=fetch` log).
///
/// Any request a broker thread has to send wakes it. So once the
/// application has taken a quarter of the queue (of its bytes, or of its
/// `queued.min.messages` records, whichever the records reach first), the
/// consumer asks the leaders of its assignment for their end offsets
/// (`rd_kafka_offsets_for_times`: one ListOffsets request per leader, in
/// parallel); each woken thread sees the room and fetches while most of
/// the queue is still ahead of the application. While nothing is consumed
/// nothing is sent.
struct FetchWakeup {
    /// Bytes of keys and values consumed between two wake-ups.
    let bytesPerWake: Int
    /// Records consumed between two wake-ups.
    let recordsPerWake: Int
    private var bytesSinceWake = 0
    private var recordsSinceWake = 0

    /// How long a wake-up waits for the leaders' answers: it only has to
    /// reach their threads, and a broker that is away must not hold up the poll long.
    static let timeoutMs: Int32 = 500

    /// For a consumer whose queue holds `queuedMaxKilobytes` (librdkafka's
    /// `queued.max.messages.kbytes`) or `queuedMinMessages` records
    /// (`queued.min.messages`).
    init(queuedMaxKilobytes: Int, queuedMinMessages: Int) {
        bytesPerWake = max(1, queuedMaxKilobytes * 1024 / 4)
        recordsPerWake = max(1, queuedMinMessages / 4)
    }

    /// Counts `records` of `bytes` consumed; true when the leaders are due
    /// a wake-up (the counts then start again).
    mutating func consumed(_ records: Int, bytes: Int) -> Bool {
        bytesSinceWake += bytes
        recordsSinceWake += records
        guard bytesSinceWake >= bytesPerWake || recordsSinceWake >= recordsPerWake else { return false }
        bytesSinceWake = 0
        recordsSinceWake = 0
        return true
    }

    /// Sends each leader of `partitions` a ListOffsets request and waits
    /// briefly for the answers, which are not needed: errors are ignored,
    /// since librdkafka's own loop fetches within a second anyway.
    static func wake(_ rk: OpaquePointer, _ partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty else { return }
        // The offset field carries the timestamp asked for: latest.
        let list = PartitionList.make(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_END)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_offsets_for_times(rk, list, timeoutMs)
    }
}
