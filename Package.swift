// swift-tools-version:6.0
import PackageDescription

// Layers, bottom up (see README "Code map"):
//   CLibPQ            libpq's C API, found through pkg-config (Debian's libpq-dev)
//   PostgresClient    our small Swift layer over libpq: connections, binding, decoding, LISTEN/NOTIFY
//   TimebankDatabase  migrations and the local development cluster
//   JobEngine         durable jobs: enqueue, claim, run, complete, rescue (one runtime for every worker)
//   TimebankWorkers   the domain's job handlers (steps in sql/), each worker's wiring, ledger verify, demo
//   *-worker          one thin executable per worker: enrollment, order, settlement, notification, insurance-claim
//   settle-bench      the settlement benchmark (run with -c release)
//   test-worker       the job engine's test worker
//   timebank          the operators' command line
//   driver-bench      the driver micro-benchmark (run with -c release)
let package = Package(
    name: "timebank",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "timebank", targets: ["timebank"]),
        .executable(name: "enrollment-worker", targets: ["enrollment-worker"]),
        .executable(name: "order-worker", targets: ["order-worker"]),
        .executable(name: "settlement-worker", targets: ["settlement-worker"]),
        .executable(name: "notification-worker", targets: ["notification-worker"]),
        .executable(name: "insurance-claim-worker", targets: ["insurance-claim-worker"]),
        .library(name: "PostgresClient", targets: ["PostgresClient"]),
        .library(name: "TimebankDatabase", targets: ["TimebankDatabase"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // The workers' /metrics and health endpoints, and the tests' HTTP receiver (builds in ~15 s).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev", "pkg-config"])]
        ),
        .target(
            name: "PostgresClient",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TimebankDatabase",
            dependencies: [
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "JobEngine",
            dependencies: [
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "TimebankWorkers",
            dependencies: [
                "JobEngine",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The notification templates (text files, Chinese first).
            resources: [.copy("Templates")]
        ),
        .executableTarget(name: "enrollment-worker", dependencies: ["TimebankWorkers"]),
        .executableTarget(name: "order-worker", dependencies: ["TimebankWorkers"]),
        .executableTarget(name: "settlement-worker", dependencies: ["TimebankWorkers"]),
        .executableTarget(name: "notification-worker", dependencies: ["TimebankWorkers"]),
        .executableTarget(name: "insurance-claim-worker", dependencies: ["TimebankWorkers"]),
        .executableTarget(
            name: "test-worker",
            dependencies: [
                "JobEngine",
                "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "timebank",
            dependencies: [
                "JobEngine",
                "TimebankWorkers",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "job-bench",
            dependencies: [
                "BenchSupport",
                "JobEngine",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmarks' shared chart (an SVG of throughput by processes).
        .target(name: "BenchSupport"),
        .executableTarget(
            name: "settle-bench",
            dependencies: [
                "BenchSupport",
                "TimebankWorkers",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "driver-bench",
            dependencies: [
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers the test targets share: a freshly migrated database per test.
        .target(
            name: "TestSupport",
            dependencies: [
                "PostgresClient", "TimebankDatabase",
                .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient", "TimebankDatabase", "TestSupport"]
        ),
        .testTarget(
            name: "JobEngineTests",
            dependencies: [
                "JobEngine", "PostgresClient", "TimebankDatabase", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "TimebankWorkersTests",
            dependencies: ["TimebankWorkers", "JobEngine", "PostgresClient", "TimebankDatabase", "TestSupport"]
        ),
        .testTarget(
            name: "TimebankDatabaseTests",
            dependencies: [
                "PostgresClient",
                "TimebankDatabase",
                "TestSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
