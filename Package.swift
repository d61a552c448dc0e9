// swift-tools-version:6.0
import PackageDescription

// Layers, bottom up (see README "Code map"):
//   CLibPQ              libpq's C API, found through pkg-config (Debian's libpq-dev)
//   PostgresClient      our small Swift layer over libpq: connections, binding, decoding, LISTEN/NOTIFY
//   TimebankDatabase    migrations (the workers check readiness with them), the personal-data key, the checkout's home
//   DevCluster          development only: the local cluster and its replica, child processes, the server's tools
//   JobEngine           durable jobs: enqueue, claim, run, complete, rescue (one runtime for every worker)
//   WorkerHost          the process around any worker (no domain): shared command line and tuning,
//                       metrics/health server; runs a `HostedWorker`
//   TimebankWorkers     the domain's job handlers (steps in sql/functions), `WorkerKind` (every job kind, its
//                       queue, its periodic jobs, how it is hosted), the outside world's options
//   TimebankOperations  operators' code: admin (deliveries, insurers, claims, supervision), top, ledger verify,
//                       the demo, sample people and the settlement fixture
//   *-worker            one thin executable per worker: enrollment, order, settlement, notification, insurance-claim
//   test-worker         the job engine's test worker (the same host and flags as the real ones)
//   Console             the operators' web console (`timebank console`): its server and pages, on FlyingFox
//   timebank            the operators' command line
//   settle-bench, job-bench, driver-bench, city-bench   the benchmarks (run with -c release)
//
// Who links what: the production workers link TimebankWorkers -> WorkerHost -> JobEngine,
// TimebankDatabase, PostgresClient, and never DevCluster, TimebankOperations or Console (see `productionWorker`
// below). test-worker links WorkerHost without the domain. Only timebank, the benchmarks and the tests
// link DevCluster.
/// A production worker's executable: the domain and its host, nothing else (no DevCluster, no TimebankOperations).
func productionWorker(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: ["TimebankWorkers", "WorkerHost"])
}

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
        // Development only: never a dependency of WorkerHost, TimebankWorkers or a production worker.
        .target(
            name: "DevCluster",
            dependencies: [
                "PostgresClient",
                "TimebankDatabase",
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
                "WorkerHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The insurers' endpoint (issue 17), on the HTTP server the metrics already use.
                .product(name: "FlyingFox", package: "FlyingFox"),
            ],
            // The notification templates (text files, Chinese first), and the insurers' contract the endpoint serves.
            resources: [.copy("Templates"), .copy("Claims/Callbacks/insurer-api.yaml")]
        ),
        .target(
            name: "WorkerHost",
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
            ]
        ),
        .target(
            name: "TimebankOperations",
            dependencies: ["TimebankWorkers", "JobEngine", "PostgresClient"]
        ),
        // The operators' web console (`timebank console`): linked by the CLI and the tests only, never by a worker.
        .target(
            name: "Console",
            dependencies: [
                "TimebankOperations", "JobEngine", "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]
        ),
        productionWorker("enrollment-worker"),
        productionWorker("order-worker"),
        productionWorker("settlement-worker"),
        productionWorker("notification-worker"),
        productionWorker("insurance-claim-worker"),
        .executableTarget(
            name: "test-worker",
            dependencies: [
                "WorkerHost",
                "JobEngine",
                "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "timebank",
            dependencies: [
                "JobEngine",
                "TimebankWorkers",
                "TimebankOperations",
                "Console",
                "WorkerHost",
                "DevCluster",
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
                "DevCluster",
                "JobEngine",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmarks' shared chart (an SVG of throughput by processes).
        .target(name: "BenchSupport"),
        .executableTarget(
            name: "city-bench",
            dependencies: [
                "TimebankOperations",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "settle-bench",
            dependencies: [
                "BenchSupport",
                "DevCluster",
                "JobEngine",
                "TimebankOperations",
                "TimebankWorkers",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "driver-bench",
            dependencies: [
                "DevCluster",
                "PostgresClient",
                "TimebankDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers the test targets share: a freshly migrated database per test.
        .target(
            name: "TestSupport",
            dependencies: [
                "PostgresClient", "TimebankDatabase", "DevCluster",
                .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient", "TimebankDatabase", "DevCluster", "TestSupport"]
        ),
        .testTarget(
            name: "JobEngineTests",
            dependencies: [
                "JobEngine", "PostgresClient", "TimebankDatabase", "DevCluster", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "TimebankWorkersTests",
            dependencies: [
                "TimebankWorkers", "WorkerHost", "TimebankOperations", "Console", "JobEngine", "PostgresClient", "TimebankDatabase", "DevCluster",
                "TestSupport",
            ]
        ),
        .testTarget(
            name: "TimebankDatabaseTests",
            dependencies: [
                "PostgresClient",
                "TimebankDatabase",
                "DevCluster",
                "TestSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
