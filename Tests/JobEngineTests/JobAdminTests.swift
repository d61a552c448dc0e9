import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// What `timebank jobs ...` does, on the SQL it runs.
@Suite struct JobAdminTests {
    @Test func aPausedQueueIsNotClaimedUntilResumed() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            _ = try await connection.enqueue(NewJob(kind: "noop", arguments: [String: Int]()))
            try await connection.pauseQueue("default", paused: true)
            #expect(try await connection.claimJobs(queue: "default", limit: 10, worker: "w", lease: .seconds(10)).isEmpty)
            let stats = try await connection.jobStats()
            #expect(stats.first?.paused == true)
            #expect(stats.first?.counts["available"] == 1)
            try await connection.pauseQueue("default", paused: false)
            #expect(try await connection.claimJobs(queue: "default", limit: 10, worker: "w", lease: .seconds(10)).count == 1)
        }
    }

    @Test func retryCancelListShowAndPrune() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let discarded = try await connection.enqueue(NewJob(kind: "noop", arguments: [String: Int]()))
            try await connection.execute("""
                UPDATE jobs.job SET state = 'discarded', attempt = 20, finalized_at = now(),
                       errors = '[{"attempt": 20, "error": "boom"}]' WHERE id = $1
                """, [discarded])
            #expect(try await connection.retryJob(discarded))
            let retried = try #require(try await connection.showJob(discarded))
            #expect(retried.state == "available")
            #expect(retried.maxAttempts == 21)  // one more attempt than it has used
            #expect(retried.errors.contains("boom"))  // its history is kept

            let waiting = try await connection.enqueue(NewJob(kind: "noop", arguments: [String: Int]()))
            #expect(try await connection.cancelJob(waiting))
            #expect(try await !connection.cancelJob(waiting))  // already finished
            #expect(try await connection.listJobs(state: "cancelled", queue: nil, kind: nil, limit: 10).map(\.id) == [waiting])

            try await connection.execute("UPDATE jobs.job SET finalized_at = now() - interval '2 days' WHERE id = $1", [waiting])
            #expect(try await connection.pruneJobs(retention: .seconds(3600)) == 1)
            #expect(try await connection.showJob(waiting) == nil)
            #expect(try await connection.showJob(discarded) != nil)
        }
    }
}
