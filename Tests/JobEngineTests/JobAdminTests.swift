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
            try await JobAdmin.setPaused(connection, queue: "default", paused: true)
            #expect(try await JobStore.claim(connection, queue: "default", limit: 10, worker: "w", lease: .seconds(10)).isEmpty)
            let stats = try await JobAdmin.stats(connection)
            #expect(stats.first?.paused == true)
            #expect(stats.first?.counts["available"] == 1)
            try await JobAdmin.setPaused(connection, queue: "default", paused: false)
            #expect(try await JobStore.claim(connection, queue: "default", limit: 10, worker: "w", lease: .seconds(10)).count == 1)
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
            #expect(try await JobAdmin.retry(connection, id: discarded))
            let retried = try #require(try await JobAdmin.show(connection, id: discarded))
            #expect(retried.state == "available")
            #expect(retried.maxAttempts == 21)  // one more attempt than it has used
            #expect(retried.errors.contains("boom"))  // its history is kept

            let waiting = try await connection.enqueue(NewJob(kind: "noop", arguments: [String: Int]()))
            #expect(try await JobAdmin.cancel(connection, id: waiting))
            #expect(try await !JobAdmin.cancel(connection, id: waiting))  // already finished
            #expect(try await JobAdmin.list(connection, state: "cancelled", queue: nil, kind: nil, limit: 10).map(\.id) == [waiting])

            try await connection.execute("UPDATE jobs.job SET finalized_at = now() - interval '2 days' WHERE id = $1", [waiting])
            #expect(try await JobAdmin.prune(connection, retention: .seconds(3600)) == 1)
            #expect(try await JobAdmin.show(connection, id: waiting) == nil)
            #expect(try await JobAdmin.show(connection, id: discarded) != nil)
        }
    }
}
