import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// Issue 18: the engine's own bookkeeping (claims, recorded ends) commits
/// without waiting for its WAL flush; a batch's completion, inside its
/// work's transaction, and the session's other transactions wait as before.
@Suite struct ClaimCommitTests {
    func setting(_ connection: PostgresConnection) async throws -> String {
        try await connection.query("SELECT current_setting('synchronous_commit') AS s")[0].decode("s", as: String.self)
    }

    @Test func aClaimAndARecordCommitWithoutWaitingAndNothingElseDoes() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            _ = try await connection.enqueueMany(kind: "noop", arguments: Array(repeating: [String: Int](), count: 3), queue: "default")
            #expect(try await setting(connection) == "on")

            try await connection.executeScript("BEGIN")
            let claimed = try await JobStore.claim(connection, queue: "default", limit: 2, worker: "w", lease: .seconds(30))
            #expect(claimed.count == 2)
            #expect(try await setting(connection) == "off")
            try await connection.executeScript("COMMIT")
            // The transaction's setting only: the session's next transaction waits again.
            #expect(try await setting(connection) == "on")

            try await connection.executeScript("BEGIN")
            let ended = AttemptResult(jobID: claimed[0].id, attempt: claimed[0].attempt, kind: .completed, runAt: nil, message: nil)
            #expect(try await JobStore.record(connection, [ended], worker: "w") == 1)
            #expect(try await setting(connection) == "off")
            try await connection.executeScript("COMMIT")

            // A batch's completion, in its work's transaction: that commit waits for its flush.
            try await connection.executeScript("BEGIN")
            try await JobStore.completeInTransaction(connection, [claimed[1]], worker: "w")
            #expect(try await setting(connection) == "on")
            try await connection.executeScript("COMMIT")
            #expect(try await connection.query("SELECT count(*) AS n FROM jobs.job WHERE state = 'completed'")[0].decode("n", as: Int.self) == 2)
        }
    }
}
