import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// Claiming stays an index scan of the available jobs however many
/// finished and waiting rows the table holds.
@Suite struct JobTableScaleTests {
    @Test func claimingIsAnIndexScanWithAMillionFinishedAndAHundredThousandWaiting() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await connection.executeScript("""
                INSERT INTO jobs.job (kind, state, finalized_at, attempt)
                SELECT 'noop', 'completed', now() - interval '1 hour', 1 FROM generate_series(1, 1000000);
                INSERT INTO jobs.job (kind) SELECT 'noop' FROM generate_series(1, 100000);
                """)
            try await connection.executeScript("ANALYZE jobs.job")
            let plan = try await connection.query("""
                EXPLAIN (FORMAT TEXT)
                SELECT id FROM jobs.job
                 WHERE state = 'available' AND limit_key IS NULL AND queue = $1 AND run_at <= now()
                 ORDER BY priority, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
                """, ["default", 10]).map { try $0.decode(column: 0, as: String.self) }.joined(separator: "\n")
            #expect(plan.contains("Index Scan using job_claim_idx"), "\(plan)")
            #expect(!plan.contains("Seq Scan"), "\(plan)")
            // And the claim itself takes exactly what it asked for.
            let claimed = try await JobStore.claim(connection, queue: "default", limit: 10, worker: "w", lease: .seconds(30))
            #expect(claimed.count == 10)
            #expect(try await connection.query("SELECT count(*) AS n FROM jobs.job WHERE state = 'running'")[0].decode("n", as: Int.self) == 10)
        }
    }
}
