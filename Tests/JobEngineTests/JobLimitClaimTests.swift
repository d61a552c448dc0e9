import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// What `jobs.claim` gives a queue with limit rules (0030), claim by claim,
/// on the SQL alone: each key its allowance, the rest of the batch to the
/// other keys and the unkeyed jobs, and nothing changed for queues without a rule.
@Suite struct JobLimitClaimTests {
    func enqueue(_ connection: PostgresConnection, _ count: Int, key: String?, queue: String = "default") async throws {
        _ = try await connection.enqueueMany(kind: "noop", arguments: Array(repeating: [String: Int](), count: count), queue: queue, limitKey: key)
    }

    func claim(_ connection: PostgresConnection, _ limit: Int = 100, queue: String = "default", worker: String = "w") async throws -> [String: Int] {
        let jobs = try await JobStore.claim(connection, queue: queue, limit: limit, worker: worker, lease: .seconds(30))
        let keys = try await connection.query("SELECT coalesce(limit_key, '-') AS k FROM jobs.job WHERE id = ANY($1::bigint[])", [jobs.map(\.id)])
        return try keys.reduce(into: [:]) { counts, row in counts[try row.decode("k", as: String.self), default: 0] += 1 }
    }

    @Test func aKeyGetsItsMaxRunningAndTheBatchFillsFromTheOthers() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await enqueue(connection, 5, key: "insurer:slow")
            try await enqueue(connection, 5, key: "insurer:fast")
            try await enqueue(connection, 3, key: nil)
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:", maxRunning: 2, perSecond: nil)
            #expect(try await claim(connection) == ["insurer:slow": 2, "insurer:fast": 2, "-": 3])
            // Every key at its bound: nothing more, however large the batch.
            #expect(try await claim(connection).isEmpty)
            // One of the slow insurer's jobs ends: one more of its jobs, none of the other's.
            try await connection.execute("UPDATE jobs.job SET state = 'completed', held_by = NULL, lease_expires_at = NULL, finalized_at = now() WHERE id = (SELECT min(id) FROM jobs.job WHERE limit_key = 'insurer:slow' AND state = 'running')")
            #expect(try await claim(connection) == ["insurer:slow": 1])
        }
    }

    /// Issue 18, item 3: a worker whose claim found a key full registered
    /// idle; when a job of that key ends, its queue's idle workers are
    /// woken (not left to their next poll), and only then: an ending that
    /// frees no place anyone waits for sends no NOTIFY.
    @Test func aJobEndingUnderAFullKeyWakesTheIdleWorkersOnlyWhenJobsOfItsKeyWait() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let listener = try await database.connect()
            try await listener.listen("jobs_default")
            try await enqueue(connection, 2, key: "insurer:slow")
            try await enqueue(connection, 1, key: "insurer:free")
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:slow", maxRunning: 1, perSecond: nil)
            let first = try await JobStore.claim(connection, queue: "default", limit: 10, worker: "w", lease: .seconds(30))
            #expect(first.count == 2)  // one of the slow key's, and the unlimited key's
            try await JobStore.setIdle(connection, queue: "default", worker: "w2", idle: true)
            func ending(_ key: String) async throws -> AttemptResult {
                let id = try await connection.query(
                    "SELECT id FROM jobs.job WHERE limit_key = $1 AND state = 'running'", [key])[0].decode("id", as: Int64.self)
                return AttemptResult(jobID: id, attempt: 1, kind: .completed, runAt: nil, message: nil)
            }
            // The unlimited key's job ends: no rule, no wake.
            #expect(try await JobStore.record(connection, [try await ending("insurer:free")], worker: "w") == 1)
            #expect(try await listener.nextNotification(timeout: .milliseconds(300)) == nil)
            // The full key's job ends while another of its jobs waits: the idle worker is woken.
            #expect(try await JobStore.record(connection, [try await ending("insurer:slow")], worker: "w") == 1)
            let woken = try await listener.nextNotification(timeout: .seconds(5))
            guard case .notification(let notification) = woken else { Issue.record("no wake-up: \(String(describing: woken))"); return }
            #expect(notification.channel == "jobs_default")
            // The last of the key's jobs ends with none waiting: no wake.
            _ = try await JobStore.claim(connection, queue: "default", limit: 10, worker: "w", lease: .seconds(30))
            #expect(try await JobStore.record(connection, [try await ending("insurer:slow")], worker: "w") == 1)
            #expect(try await listener.nextNotification(timeout: .milliseconds(300)) == nil)
        }
    }

    @Test func theLongestPrefixWinsAndAKeyNoRuleMatchesIsNotLimited() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await enqueue(connection, 5, key: "insurer:a")
            try await enqueue(connection, 5, key: "insurer:b")
            try await enqueue(connection, 5, key: "channel:person")
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:", maxRunning: 1, perSecond: nil)
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:b", maxRunning: 3, perSecond: nil)
            #expect(try await claim(connection) == ["insurer:a": 1, "insurer:b": 3, "channel:person": 5])
        }
    }

    @Test func theRateLimitStartsABurstThenRefillsAtItsRate() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await enqueue(connection, 20, key: "channel:person")
            // A token every 100 s: the second claim, at once, gets none even on a machine that stalls
            // for seconds (with one every 2 s, the full suite's second claim came after a refill).
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "channel:", maxRunning: nil, perSecond: 0.01, burst: 3)
            #expect(try await claim(connection) == ["channel:person": 3])
            #expect(try await claim(connection).isEmpty)
            // 150 s pass for the bucket (its last refill moved back): 1.5 tokens, so one more job.
            try await connection.execute("UPDATE jobs.limit_state SET updated_at = updated_at - interval '150 seconds' WHERE limit_key = 'channel:person'")
            let refilled = try await claim(connection)["channel:person"] ?? 0
            #expect((1...2).contains(refilled), "\(refilled)")
        }
    }

    /// Two claims at once: the second skips the key the first holds (its
    /// row of jobs.limit_state), takes the other jobs, and after the first
    /// commits counts what it started.
    @Test func aKeyBeingClaimedIsSkippedNotWaitedForNorOverrun() async throws {
        try await TestDatabase.with { database in
            let first = try await database.connect()
            let second = try await database.connect()
            try await enqueue(first, 5, key: "insurer:a")
            try await enqueue(first, 2, key: nil)
            try await JobAdmin.setLimit(first, queue: "default", keyPrefix: "insurer:", maxRunning: 3, perSecond: nil)
            try await first.executeScript("BEGIN")
            let held = try await first.query("SELECT count(*) AS n FROM jobs.claim('default', 2, 'w1', '30 s') c JOIN jobs.job j USING (id) WHERE j.limit_key = 'insurer:a'")
            #expect(try held[0].decode("n", as: Int.self) == 2)
            #expect(try await claim(second, worker: "w2") == ["-": 2])  // the key is skipped, not waited for
            try await first.executeScript("COMMIT")
            #expect(try await claim(second, worker: "w2") == ["insurer:a": 1])  // 3 - the 2 the first started
        }
    }

    @Test func aRuleChangeAppliesFromTheNextClaim() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await enqueue(connection, 10, key: "insurer:a")
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:", maxRunning: 1, perSecond: nil)
            #expect(try await claim(connection) == ["insurer:a": 1])
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "insurer:", maxRunning: 4, perSecond: nil)
            #expect(try await claim(connection) == ["insurer:a": 3])
            #expect(try await JobAdmin.limits(connection).map(\.maxRunning) == [4])
            #expect(try await JobAdmin.limitUsage(connection).map { [$0.running, $0.waiting] } == [[4, 6]])
            #expect(try await JobAdmin.removeLimit(connection, queue: "default", keyPrefix: "insurer:"))
            #expect(try await !JobAdmin.removeLimit(connection, queue: "default", keyPrefix: "insurer:"))
            #expect(try await claim(connection) == ["insurer:a": 6])
        }
    }

    /// A queue without a rule: the one statement it always was, whatever
    /// keys its jobs carry and whatever rules other queues have.
    @Test func aQueueWithoutRulesIsClaimedAsBefore() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await enqueue(connection, 5, key: "insurer:a", queue: "free")
            try await enqueue(connection, 5, key: nil, queue: "free")
            try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "", maxRunning: 1, perSecond: nil)
            #expect(try await claim(connection, queue: "free") == ["insurer:a": 5, "-": 5])
        }
    }

    @Test func rulesThatLimitNothingOrNothingForeverAreRefused() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            for (maxRunning, perSecond) in [(nil, nil), (0, nil), (nil, 0.0)] as [(Int?, Double?)] {
                await #expect(throws: (any Error).self) {
                    try await JobAdmin.setLimit(connection, queue: "default", keyPrefix: "x", maxRunning: maxRunning, perSecond: perSecond)
                }
            }
        }
    }
}
