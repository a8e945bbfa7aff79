import Foundation
import PipelineCore

/// Waits until MySQL holds every row and the S3 sink has committed (so
/// uploaded) everything in Kafka, noting when each got there.
struct DemoWaiter: Sendable {
    let counter: DemoCounter
    let kafka: KafkaConfiguration
    let s3GroupID: String
    let expected: Int

    struct Landed: Sendable {
        var mysql: Date
        var s3: Date
    }

    func waitForEveryRow(deadline: Date, failure: Locked<String?>) async throws -> Landed {
        var mysqlAt: Date?
        var s3At: Date?
        var lastShown = Date.distantPast
        while mysqlAt == nil || s3At == nil {
            if let failure = failure.value { throw PipelineError.other("demo: the pipeline stopped: \(failure)") }
            if Date() > deadline {
                throw PipelineError.other("demo: timed out; MySQL \(mysqlAt == nil ? "incomplete" : "complete"), S3 \(s3At == nil ? "incomplete" : "complete")")
            }
            let mysql = try await counter.mysqlRows()
            if mysqlAt == nil && mysql.rows >= expected { mysqlAt = Date() }
            let uploaded = try await s3Committed()
            if s3At == nil && uploaded >= Int64(expected) { s3At = Date() }
            if Date().timeIntervalSince(lastShown) > 2 {
                say("  waiting: MySQL \(mysql.rows)/\(expected) rows, S3 \(uploaded)/\(expected) records uploaded and committed")
                lastShown = Date()
            }
            if mysqlAt == nil || s3At == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        return Landed(mysql: mysqlAt!, s3: s3At!)
    }

    /// Records the S3 sink committed: it commits only after an object is uploaded.
    func s3Committed() async throws -> Int64 {
        guard let info = try await counter.admin.topics().first(where: { $0.name == counter.topic }) else { return 0 }
        let partitions = info.partitions.map { TopicPartition(counter.topic, $0.partition) }
        let committed = try await counter.admin.committedOffsets(group: s3GroupID, partitions: partitions, configuration: kafka)
        return committed.values.reduce(0, +)
    }
}

/// The demo's closing report.
struct DemoSummary {
    let rows: Int
    let counts: DemoCounts
    let started: Date
    let generatedAt: Date
    let landed: DemoWaiter.Landed
    let generateRate: Double

    func print() {
        let end = max(landed.mysql, landed.s3)
        let total = end.timeIntervalSince(started)
        let mark = { (ok: Bool) in ok ? "✓" : "✗" }
        say("")
        say("Summary")
        say("  Postgres  \(counts.postgres) rows written (\(Int(generateRate)) rows/s)")
        say("  Kafka     \(counts.kafka) records written to the topic")
        say("  MySQL     \(counts.mysql) rows, \(counts.mysqlDistinct) distinct  \(mark(counts.mysql == rows && counts.mysqlDistinct == rows))")
        say("  S3        \(counts.s3Records) records, \(counts.s3Distinct) distinct, in \(counts.s3Objects) objects  \(mark(counts.s3Records == rows && counts.s3Distinct == rows))")
        say("  end to end: \(rows) rows in \(seconds(total)) (\(Int(Double(rows) / max(total, 0.001))) rows/s)")
        say("  latency after the last write: MySQL \(seconds(landed.mysql.timeIntervalSince(generatedAt))), S3 \(seconds(landed.s3.timeIntervalSince(generatedAt)))")
    }
}
