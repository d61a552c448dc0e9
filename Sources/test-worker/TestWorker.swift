import ArgumentParser
import Foundation
import JobEngine
import PostgresClient
import WorkerHost

/// A worker with test handlers, for the job engine's tests and benchmark:
/// `noop`, `sleep`, `fail`, `stamp` and `span`. Each handler also records its run in
/// `test_runs` when asked, so that tests can count how often a job ran.
@main
struct TestWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-worker", abstract: "The job engine's test worker (noop, sleep and fail handlers).")

    @Option(help: "Queues to claim from (comma-separated).") var queues = "default"
    /// The production workers' command line and host (tuning flags and their TIMEBANK_* variables,
    /// --database-url, --log-level, --metrics-port), run by the same code; these are the test worker's own.
    @OptionGroup var options: WorkerOptions
    @Option(help: "Shutdown grace in milliseconds.") var graceMilliseconds = 10_000
    @Option(help: "Base backoff in milliseconds.") var backoffMilliseconds = 1000
    @Flag(help: "Commit claims and results asynchronously (synchronous_commit = off).") var asynchronousCommit = false

    func run() async throws {
        var configuration = WorkerConfiguration(name: "test-worker", queues: queues.split(separator: ",").map(String.init))
        configuration.shutdownGrace = .milliseconds(graceMilliseconds)
        configuration.backoff = Backoff(base: .milliseconds(backoffMilliseconds), maximum: .seconds(60))
        configuration.asynchronousCommit = asynchronousCommit
        try await options.run(HostedWorker(name: "test-worker", configuration: configuration) { settings in
            let recorder = try await PostgresConnection.connect(settings)
            var registry = HandlerRegistry()
            registry.register(NoopHandler(recorder: recorder))
            registry.register(SleepHandler(recorder: recorder))
            registry.register(FailHandler(recorder: recorder))
            registry.register(StampHandler(recorder: recorder))
            registry.register(SpanHandler(recorder: recorder))
            return registry
        })
    }
}

/// Records a run in `test_runs` (created by the tests) when `record` is set.
func recordRun(_ recorder: PostgresConnection, _ context: JobContext, _ record: Bool?) async throws {
    guard record == true else { return }
    try await recorder.execute(
        "INSERT INTO test_runs (job_id, attempt, worker) VALUES ($1, $2, $3)",
        [context.jobID, context.attempt, context.worker])
}

struct NoopHandler: JobHandler {
    struct Arguments: Codable, Sendable { var record: Bool? }
    static let kind = "noop"
    let recorder: PostgresConnection

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        try await recordRun(recorder, context, arguments.record)
        return .completed
    }
}

struct SleepHandler: JobHandler {
    struct Arguments: Codable, Sendable { var milliseconds: Int; var record: Bool? }
    static let kind = "sleep"
    let recorder: PostgresConnection

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        try await Task.sleep(for: .milliseconds(arguments.milliseconds))
        try await recordRun(recorder, context, arguments.record)
        return .completed
    }
}

struct FailHandler: JobHandler {
    /// Fails the first `failures` attempts (all when nil), or snoozes once
    /// (`snooze`), or cancels (`cancel`).
    struct Arguments: Codable, Sendable {
        var failures: Int?
        var snoozeMilliseconds: Int?
        var cancel: Bool?
        var record: Bool?
    }
    struct Planned: Error, CustomStringConvertible { var attempt: Int; var description: String { "planned failure on attempt \(attempt)" } }
    static let kind = "fail"
    let recorder: PostgresConnection

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        try await recordRun(recorder, context, arguments.record)
        if arguments.cancel == true { return .cancel(reason: "asked to cancel") }
        if let snooze = arguments.snoozeMilliseconds, context.attempt == 1 {
            // Snoozing gives the attempt back; count snoozes in test_runs.
            if (try await recorder.query("SELECT count(*) AS n FROM test_runs WHERE job_id = $1", [context.jobID])[0]
                .decode("n", as: Int.self)) <= 1
            {
                return .snooze(.milliseconds(snooze))
            }
            return .completed
        }
        if arguments.failures.map({ context.attempt <= $0 }) ?? true { throw Planned(attempt: context.attempt) }
        return .completed
    }
}

/// Records when it started, on the system-wide monotonic clock, for the
/// benchmark's pickup latency (enqueue commit to handler start).
struct StampHandler: JobHandler {
    struct Arguments: Codable, Sendable {}
    static let kind = "stamp"
    let recorder: PostgresConnection

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        try await recorder.execute("INSERT INTO bench_pickup (job_id, started_ns) VALUES ($1, $2)", [context.jobID, nanoseconds])
        return .completed
    }
}

/// Sleeps, then records when it started and ended in `test_spans`
/// (created by the tests), for the limit tests to count how many of a
/// key's jobs ran at once.
struct SpanHandler: JobHandler {
    struct Arguments: Codable, Sendable { var milliseconds: Int }
    static let kind = "span"
    let recorder: PostgresConnection

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let started = Date()
        try await Task.sleep(for: .milliseconds(arguments.milliseconds))
        try await recorder.execute("INSERT INTO test_spans (job_id, worker, started_at, ended_at) VALUES ($1, $2, $3, $4)",
                                   [context.jobID, context.worker, started, Date()])
        return .completed
    }
}
