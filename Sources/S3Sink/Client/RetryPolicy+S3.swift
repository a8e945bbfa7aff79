import PipelineCore

extension RetryPolicy {
    /// An S3 client's default: 10 attempts, 100 ms doubling up to 5 s, which
    /// rides out about 20 s of trouble. (A sink uses ``S3SinkConfig/retry``,
    /// which retries without limit.)
    public static let standard = RetryPolicy(
        maxAttempts: 10, initialDelay: .milliseconds(100), maxDelay: .seconds(5))
}
