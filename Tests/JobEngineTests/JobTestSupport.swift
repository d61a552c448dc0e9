import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// An in-process worker for a test, stopped like a SIGTERM would.
struct RunningWorker {
    let worker: Worker
    let task: Task<Void, Error>

    static func start(
        _ database: TestDatabase, queues: [String] = ["default"], periodicJobs: [PeriodicJob] = [],
        handlers: (inout HandlerRegistry) -> Void, configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) throws -> RunningWorker {
        var configuration = WorkerConfiguration(name: "test", queues: queues)
        configuration.pollInterval = .milliseconds(200)
        configuration.promoteInterval = .milliseconds(100)
        configuration.rescueInterval = .milliseconds(200)
        configuration.backoff = Backoff(base: .milliseconds(20), maximum: .milliseconds(200))
        configure(&configuration)
        var registry = HandlerRegistry()
        handlers(&registry)
        let worker = try Worker(configuration: configuration, settings: database.settings, registry: registry, periodicJobs: periodicJobs)
        return RunningWorker(worker: worker, task: Task { try await worker.run() })
    }

    func stop() async throws {
        await worker.beginShutdown()
        try await task.value
    }
}

/// Records each run in `test_runs`, then does what the arguments say.
struct RecordingHandler: JobHandler {
    struct Arguments: Codable, Sendable {
        var failures: Int? = 0
        var snoozeMilliseconds: Int? = nil
        var cancel: Bool? = nil
        var sleepMilliseconds: Int? = nil
    }
    struct Planned: Error {}
    static let kind = "record"
    let settings: ConnectionSettings

    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let connection = try await PostgresConnection.connect(settings)
        defer { Task { await connection.close() } }
        try await connection.execute(
            "INSERT INTO test_runs (job_id, attempt, worker) VALUES ($1, $2, $3)",
            [context.jobID, context.attempt, context.worker])
        if let sleep = arguments.sleepMilliseconds { try await Task.sleep(for: .milliseconds(sleep)) }
        if arguments.cancel == true { return .cancel(reason: "asked to") }
        if let snooze = arguments.snoozeMilliseconds {
            let runs = try await connection.query("SELECT count(*) AS n FROM test_runs WHERE job_id = $1", [context.jobID])
            if try runs[0].decode("n", as: Int.self) == 1 { return .snooze(.milliseconds(snooze)) }
            return .completed
        }
        if context.attempt <= (arguments.failures ?? 0) { throw Planned() }
        return .completed
    }
}

func createRunsTable(_ connection: PostgresConnection) async throws {
    try await connection.executeScript("""
        CREATE TABLE test_runs (job_id bigint NOT NULL, attempt int NOT NULL, worker text NOT NULL,
                                ran_at timestamptz NOT NULL DEFAULT clock_timestamp())
        """)
}

/// Polls until `sql` returns true, for at most `timeout`; records an issue if it never does.
func eventually(
    _ connection: PostgresConnection, _ sql: String, _ parameters: [any PostgresEncodable] = [],
    timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await connection.query(sql, parameters)[0].decode(column: 0, as: Bool.self) { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("never became true within \(timeout): \(sql)", sourceLocation: sourceLocation)
}

func state(_ connection: PostgresConnection, _ id: Int64) async throws -> String {
    try await connection.query("SELECT state::text AS s FROM jobs.job WHERE id = $1", [id])[0].decode("s", as: String.self)
}
