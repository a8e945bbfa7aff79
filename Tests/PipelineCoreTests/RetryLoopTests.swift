import CRdKafka
import Logging
import TestSupport
import XCTest

@testable import PipelineCore

/// The one retry policy: capped backoff, retriable decisions, rate-limited logs.
final class RetryLoopTests: XCTestCase {
    func testAnOutageIsLoggedWhenItStartsThenRateLimitedAndItsEndOnce() async throws {
        let logs = CapturedLogs()
        let logger = logs.logger
        var retry = RetryLoop(
            waitingFor: "the thing", logger: logger, backoff: Backoff(initialMilliseconds: 1, maximumMilliseconds: 2),
            reportEvery: .seconds(10))
        let error = PipelineError.kafka(operation: "commit", code: -180, reason: "Local: Waiting for coordinator", retriable: true)
        for _ in 0..<50 { try await retry.failed(error) }
        XCTAssertEqual(retry.attempts, 50)
        retry.succeeded()
        XCTAssertEqual(retry.attempts, 0)
        let logged = logs.entries
        XCTAssertEqual(logged.map(\.level), [.warning, .notice], "\(logged)")
        XCTAssertTrue(logged[0].message.hasPrefix("the thing: retry 1 in "), logged[0].message)
        XCTAssertTrue(logged[0].message.contains("Waiting for coordinator"), logged[0].message)
        XCTAssertTrue(logged[1].message.contains("recovered after"), logged[1].message)
        XCTAssertTrue(logged[1].message.contains("50 retries"), logged[1].message)
    }

    func testRetryForeverStopsOnAnErrorRetryingCannotFix() async throws {
        let calls = Locked(0)
        do {
            _ = try await Retry.forever(waitingFor: "x", logger: Logger(label: "test"), backoff: Backoff(initialMilliseconds: 1, maximumMilliseconds: 1)) {
                calls.withLock { $0 += 1 }
                if calls.value < 3 { throw PipelineError.kafka(operation: "o", code: -195, reason: "transport", retriable: true) }
                throw PipelineError.config(key: "k", reason: "bad")
            }
            XCTFail("no error")
        } catch PipelineError.config(let key, _) {
            XCTAssertEqual(key, "k")
        }
        XCTAssertEqual(calls.value, 3)
    }

    /// The fatal exit: a commit failing with -180 (Waiting for
    /// coordinator) was not retriable.
    func testCoordinatorAndTransportErrorsArePassingFaults() {
        // -180 WAIT_COORD, -185 TIMED_OUT, -195 TRANSPORT, -187 ALL_BROKERS_DOWN,
        // 15 COORDINATOR_NOT_AVAILABLE, 16 NOT_COORDINATOR, 7 REQUEST_TIMED_OUT, 14 COORDINATOR_LOAD_IN_PROGRESS
        for code: Int32 in [-180, -185, -195, -187, 15, 16, 7, 14] {
            XCTAssertTrue(Retry.isRetriable(kafkaError("commit offsets for group", rd_kafka_resp_err_t(rawValue: code))), "\(code)")
        }
        // Fenced or unknown member, bad config: not a passing fault.
        for code: Int32 in [25, 82, -186] {
            XCTAssertFalse(Retry.isRetriable(kafkaError("commit offsets for group", rd_kafka_resp_err_t(rawValue: code))), "\(code)")
        }
        XCTAssertFalse(Retry.isRetriable(PipelineError.other("no")))
        XCTAssertFalse(Retry.isRetriable(CancellationError()))
    }

    func testTheOutageBackoffIsCappedAtTwoSeconds() {
        var backoff = Backoff.outage
        let delays = (0..<30).map { _ in backoff.nextDelayMilliseconds() }
        XCTAssertLessThanOrEqual(delays.max()!, 2_000)
        XCTAssertEqual(Backoff.outage(cappedAt: .seconds(10)).maximumMilliseconds, 2_000)
        XCTAssertEqual(Backoff.outage(cappedAt: .milliseconds(500)).maximumMilliseconds, 500)
    }
}

/// The one retry policy type (Postgres connects, S3 requests).
final class RetryPolicyTests: XCTestCase {
    func testAttemptsAndDurations() {
        XCTAssertFalse(RetryPolicy.none.allowsAttempt(after: 1))
        let three = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(500), maxDelay: .seconds(10))
        XCTAssertEqual([1, 2, 3].map(three.allowsAttempt(after:)), [true, true, false])
        XCTAssertTrue(RetryPolicy.forever.allowsAttempt(after: 1_000_000))
        XCTAssertEqual(RetryPolicy(maxAttempts: 0, initialDelay: .zero, maxDelay: .zero).maxAttempts, 1)
        XCTAssertEqual(three.backoff.initialMilliseconds, 500)
        XCTAssertEqual(three.backoff.maximumMilliseconds, 10_000)
        XCTAssertEqual(RetryPolicy.forever.backoff.maximumMilliseconds, Backoff.outage.maximumMilliseconds)
        XCTAssertEqual(RetryPolicy.milliseconds(.microseconds(2_500)), 2)
        XCTAssertEqual(RetryPolicy.milliseconds(.seconds(Int64.max)), .max)
    }
}
