import Foundation
@testable import JobEngine
import MetricsTestKit
import PostgresClient
import TestSupport
import Testing

@Suite struct JobMetricsTests {
    @Test func everyOutcomeIsCountedByQueueAndKind() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            var failing = NewJob(kind: "record", arguments: RecordingHandler.Arguments(failures: 99))
            failing.maxAttempts = 2
            _ = try await connection.enqueue(failing)
            _ = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(failures: 1)))
            _ = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(cancel: true)))
            let metrics = TestMetrics()
            let worker = try RunningWorker.start(database, handlers: { $0.register(RecordingHandler(settings: database.settings)) }) {
                $0.metricsFactory = metrics
            }
            try await eventually(connection, "SELECT count(*) = 3 FROM jobs.job WHERE finalized_at IS NOT NULL")
            try await worker.stop()
            let dimensions = [("queue", "default"), ("kind", "record")]
            #expect(metrics.counterTotal(label: "jobs_claimed_total", dimensions: dimensions) == 5)
            #expect(metrics.counterTotal(label: "jobs_failed_total", dimensions: dimensions) == 2)
            #expect(metrics.counterTotal(label: "jobs_discarded_total", dimensions: dimensions) == 1)
            #expect(metrics.counterTotal(label: "jobs_completed_total", dimensions: dimensions) == 1)
            #expect(metrics.counterTotal(label: "jobs_cancelled_total", dimensions: dimensions) == 1)
            #expect(try metrics.expectTimer("job_run_seconds", dimensions).values.count == 5)
        }
    }
}
