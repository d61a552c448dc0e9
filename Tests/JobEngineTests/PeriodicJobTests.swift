import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// Periodic jobs through a real worker: the period under way runs at
/// start, the next run waits scheduled under its own key, and a second
/// worker of the kind makes no second job.
@Suite struct PeriodicJobTests {
    @Test func theRunUnderWayRunsAtStartAndTheNextWaitsOnceWhateverTheWorkers() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let hourly = PeriodicJob(kind: "record", queue: "default", schedule: .every(.seconds(3600)))
            let runs = try #require(hourly.schedule.runs(around: Date()))
            let first = try RunningWorker.start(database, periodicJobs: [hourly]) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT count(*) = 1 FROM jobs.job WHERE state = 'completed' AND unique_key = $1", [hourly.key(runs.last)])
            try await eventually(connection, "SELECT count(*) = 1 FROM jobs.job WHERE state = 'scheduled' AND unique_key = $1", [hourly.key(runs.next)])
            var quiet = hourly
            quiet.runOnStart = false
            let second = try RunningWorker.start(database, periodicJobs: [quiet]) { $0.register(RecordingHandler(settings: database.settings)) }
            try await Task.sleep(for: .milliseconds(500))
            try await second.stop()
            try await first.stop()
            #expect(try await connection.query("SELECT count(*) AS n FROM jobs.job")[0].decode("n", as: Int.self) == 2)
            #expect(try await connection.query("SELECT count(*) AS n FROM test_runs")[0].decode("n", as: Int.self) == 1)
        }
    }
}
