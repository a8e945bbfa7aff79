// Placeholder until the S3Sink stage lands.
