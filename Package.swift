// swift-tools-version:6.0
import PackageDescription

/// Tributary: a library-first Swift SDK for streaming ingestion
/// (Postgres → Kafka → MySQL and S3), one library target per stage.
let package = Package(
    name: "Tributary",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PipelineCore", targets: ["PipelineCore"]),
        .library(name: "DataGen", targets: ["DataGen"]),
        .library(name: "PostgresSource", targets: ["PostgresSource"]),
        .library(name: "MySQLSink", targets: ["MySQLSink"]),
        .library(name: "S3Sink", targets: ["S3Sink"]),
        .library(name: "ConnectWorker", targets: ["ConnectWorker"]),
        .library(name: "SchemaRegistry", targets: ["SchemaRegistry"]),
        .executable(name: "tributary", targets: ["tributary"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        // The REST API's HTTP server: small, builds in seconds, non-blocking sockets.
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, found with pkg-config.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMySQL", pkgConfig: "mysqlclient", providers: [.apt(["default-libmysqlclient-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's mallopt, for the executable's allocator settings (no library to link).
        .systemLibrary(name: "CMalloc"),

        // Stages.
        .target(
            name: "PipelineCore",
            dependencies: [
                "CRdKafka",
                // libcurl: the HTTP client S3Sink and the schema registry client share.
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "DataGen"),
        .target(name: "PostgresSource", dependencies: ["PipelineCore", "CLibPQ"]),
        .target(name: "MySQLSink", dependencies: ["PipelineCore", "CMySQL"]),
        .target(name: "S3Sink", dependencies: ["PipelineCore", "CCurl", "CCrypto", "CZlib"]),

        // Prometheus text for a /metrics endpoint; no stage imports it.
        .target(
            name: "PrometheusExport",
            dependencies: [
                "PipelineCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // The web console's pages (server-rendered); no stage imports it.
        .target(
            name: "Console",
            dependencies: ["PipelineCore", .product(name: "Mustache", package: "swift-mustache")]
        ),

        // Confluent Schema Registry's REST API over a `_schemas` topic
        // (`tributary registry`); no stage imports it.
        .target(name: "SchemaRegistry", dependencies: ["PipelineCore", .product(name: "Logging", package: "swift-log")]),

        // Builds connectors from Connect configs and hosts them behind Kafka
        // Connect's REST API (`tributary connect`); no stage imports it.
        .target(
            name: "ConnectWorker",
            dependencies: [
                "PipelineCore", "PostgresSource", "MySQLSink", "S3Sink", "Console", "PrometheusExport", "SchemaRegistry", "CSSL",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The thin command-line front end.
        .executableTarget(
            name: "tributary",
            dependencies: [
                "PipelineCore", "DataGen", "PostgresSource", "MySQLSink", "S3Sink", "ConnectWorker", "Console", "PrometheusExport", "SchemaRegistry", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Examples: each embeds one stage library and nothing else.
        .executableTarget(name: "GenerateUsers", dependencies: ["DataGen"], path: "Examples/GenerateUsers"),
        .executableTarget(name: "StreamTableToKafka", dependencies: ["PostgresSource", "PipelineCore"], path: "Examples/StreamTableToKafka"),
        .executableTarget(name: "MirrorTopicToMySQL", dependencies: ["MySQLSink", "PipelineCore"], path: "Examples/MirrorTopicToMySQL"),
        .executableTarget(name: "ArchiveTopicToS3", dependencies: ["S3Sink", "PipelineCore"], path: "Examples/ArchiveTopicToS3"),

        // Helpers every test target shares (log capture); no stage depends on it.
        .target(
            name: "TestSupport", dependencies: ["PipelineCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"),
        .testTarget(name: "PipelineCoreTests", dependencies: ["PipelineCore", "TestSupport"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "PipelineCore"]),
        .testTarget(name: "PrometheusExportTests", dependencies: ["PrometheusExport", "PipelineCore", "TestSupport"]),
        .testTarget(name: "DataGenTests", dependencies: ["DataGen"]),
        .testTarget(name: "PostgresSourceTests", dependencies: ["PostgresSource", "DataGen", "PipelineCore", "TestSupport"]),
        .testTarget(name: "MySQLSinkTests", dependencies: ["MySQLSink", "PipelineCore", "TestSupport"]),
        .testTarget(name: "S3SinkTests", dependencies: ["S3Sink", "PipelineCore", "TestSupport"]),
        // The registry's rules and records, and `tributary registry` over real HTTP with Python's Confluent client.
        .testTarget(name: "SchemaRegistryTests", dependencies: ["SchemaRegistry", "PipelineCore", "TestSupport"], exclude: ["Support/registry_client.py"]),
        // The REST layer's pure logic, and `tributary connect` over real HTTP with real servers behind.
        .testTarget(name: "ConnectWorkerTests", dependencies: ["ConnectWorker", "PipelineCore", "PostgresSource", "MySQLSink", "S3Sink", "TestSupport"]),
        // Runs the `tributary` executable against the real servers.
        .testTarget(
            name: "EndToEndTests", dependencies: ["PipelineCore", "PostgresSource", "MySQLSink", "S3Sink", "TestSupport"],
            exclude: ["Support/browser.py", "Support/avro_interop.py"]),
    ],
    swiftLanguageModes: [.v6]
)
