import PipelineCore

/// A sink's KIP-875 offsets request, parsed as Connect parses it
/// (`SinkUtils.parseSinkConnectorOffsets`, with its messages): per
/// partition the next offset to read, nil to reset it.
struct SinkOffsetChanges: Sendable, Equatable {
    /// What a request does to one partition.
    enum Change: Sendable, Equatable {
        /// Resume at this offset (the next one to read).
        case offset(Int64)
        /// Resume per `auto.offset.reset`.
        case reset
    }
    var offsets: [TopicPartition: Change]

    /// Parses `{"offsets":[{"partition":{"kafka_topic":"T","kafka_partition":0},"offset":{"kafka_offset":5}}]}`;
    /// a null offset resets that partition. Numbers may be given as strings, as Connect accepts.
    init(body: JSON) throws(ConnectRestError) {
        guard case .array(let entries)? = body["offsets"], !entries.isEmpty else {
            throw .badRequest("Partitions / offsets need to be provided for an alter offsets request")
        }
        var offsets: [TopicPartition: Change] = [:]
        for entry in entries {
            guard let partition = entry["partition"], partition != .null else {
                throw .badRequest("The partition for a sink connector offset cannot be null or missing")
            }
            guard let topic = partition["kafka_topic"], let number = partition["kafka_partition"] else {
                throw .badRequest("The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'")
            }
            guard let index = Self.integer(number).flatMap({ Int32(exactly: $0) }), index >= 0 else {
                throw .badRequest(
                    "Failed to parse the following Kafka partition value in the provided offsets: '\(Self.shown(number))'. "
                        + "Partition values for sink connectors need to be integers.")
            }
            guard let name = topic.stringValue, !name.isEmpty else {
                throw .badRequest("The kafka_topic of a sink connector offset must be a topic name, got \(topic.text)")
            }
            let tp = TopicPartition(name, index)
            switch entry["offset"] {
            case nil, .null?:
                offsets[tp] = .reset
            case let offset?:
                guard let value = offset["kafka_offset"] else {
                    throw .badRequest("The offset for a sink connector should either be null or contain the key 'kafka_offset'")
                }
                guard let next = Self.integer(value) else {
                    throw .badRequest(
                        "Failed to parse the following Kafka offset value in the provided offsets: '\(Self.shown(value))'. "
                            + "Offset values for sink connectors need to be integers.")
                }
                guard next >= 0 else { throw .badRequest("The kafka_offset of \(tp) must not be negative, got \(next)") }
                offsets[tp] = .offset(next)
            }
        }
        self.offsets = offsets
    }

    /// Every partition reset (`DELETE …/offsets`).
    init(resetting partitions: [TopicPartition]) {
        offsets = Dictionary(uniqueKeysWithValues: partitions.map { ($0, Change.reset) })
    }

    /// Where each changed partition will resume: reset ones per
    /// `auto.offset.reset` (`earliest`: the log start, `latest`: its end).
    /// Every partition must be one of the sink's (`topics`, or matching
    /// `topicsRegex`) and exist, and every offset lie within its log: an
    /// offset below the log start names records already deleted, one past
    /// its end records that do not exist.
    func targets(
        topics: [String], topicsRegex: String?, resetPolicy: String, admin: KafkaAdmin
    ) async throws -> [TopicPartition: Int64] {
        let existing = try await SinkPartitions.existing(topics: topics, topicsRegex: topicsRegex, admin: admin)
        var targets: [TopicPartition: Int64] = [:]
        for (tp, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            guard existing.contains(tp) else {
                let reads = topicsRegex.map { "topics matching '\($0)'" } ?? "topics \(topics.joined(separator: ","))"
                throw ConnectRestError.badRequest("\(tp) is not a partition this connector reads (it reads the \(reads))")
            }
            let marks = try await admin.watermarks(tp)
            switch offset {
            case .offset(let next):
                guard next >= marks.low, next <= marks.high else {
                    throw ConnectRestError.badRequest(
                        "The kafka_offset \(next) of \(tp) is outside its log, which holds offsets \(marks.low) to \(marks.high)"
                            + (next < marks.low ? ": the records before \(marks.low) were deleted" : ""))
                }
                targets[tp] = next
            case .reset:
                switch resetPolicy {
                case "latest", "largest", "end": targets[tp] = marks.high
                case "error", "none":
                    throw ConnectRestError.badRequest(
                        "Cannot reset the offsets of \(tp): with auto.offset.reset=\(resetPolicy) a partition without an offset does not start")
                default: targets[tp] = marks.low
                }
            }
        }
        return targets
    }

    private static func integer(_ value: JSON) -> Int64? {
        switch value {
        case .int(let number): return number
        case .string(let text): return Int64(text)
        default: return nil
        }
    }

    private static func shown(_ value: JSON) -> String { value.stringValue ?? value.text }
}
