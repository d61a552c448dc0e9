import Foundation
import PostgresClient
import TestSupport
import Testing

/// Blocking libpq calls run on each connection's own thread, never on
/// Swift concurrency's shared pool (two threads on this 2-core machine).
@Suite struct ConnectionThreadTests {
    @Test func blockingQueriesDoNotStallTheSharedPool() async throws {
        try await TestDatabase.with(migrated: false) { database in
            var connections: [PostgresConnection] = []
            for _ in 0..<6 { connections.append(try await database.connect()) }
            let done = SleepersDone()
            let sleepers = connections.map { connection in
                Task {
                    try await connection.query("SELECT pg_sleep(10)")
                    await done.one()
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            // Six calls now block in libpq, three times more than the pool
            // has threads. Work on the pool must still get through while
            // they sleep; were the sleepers on the pool, it would get through
            // only once they returned. (No wall-clock bound: a busy machine
            // may be slow, but not 10 s slow; 3 s was, once, with the whole
            // suite and two builds sharing two cores.)
            var ticks = 0
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(5))
                ticks += 1
            }
            #expect(ticks == 10)
            #expect(await done.count == 0, "the shared pool was stalled until the blocking calls returned")
            for sleeper in sleepers { _ = try await sleeper.value }
            #expect(await done.count == 6)
        }
    }

    @Test func everyCallRunsOnTheConnectionsOwnThread() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let other = try await database.connect()
            let first = await connection.threadID
            try await connection.query("SELECT 1")
            #expect(await connection.threadID == first)
            #expect(await other.threadID != first)
            // A task that prefers the connection's executor runs its own
            // code on that thread as well (no hop per call).
            let inside = await connection.withPreferredExecutor { UInt(pthread_self()) }
            #expect(inside == first)
            let outside = UInt(pthread_self())
            #expect(outside != first)
        }
    }
}

/// How many of the blocking calls have returned.
actor SleepersDone {
    private(set) var count = 0
    func one() { count += 1 }
}
