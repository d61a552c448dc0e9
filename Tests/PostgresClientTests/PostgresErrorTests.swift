import Foundation
import PostgresClient
import TestSupport
import Testing

/// Server errors carry their SQLSTATE, so callers can tell a unique
/// violation from a serialization failure from a lost connection.
@Suite struct PostgresErrorTests {
    @Test func constraintViolationsCarryTheirCode() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("""
                CREATE TABLE account (id int PRIMARY KEY, balance bigint NOT NULL CONSTRAINT balance_not_negative CHECK (balance >= 0));
                INSERT INTO account VALUES (1, 10);
                """)
            let unique = await #expect(throws: PostgresError.self) {
                try await connection.execute("INSERT INTO account VALUES ($1, $2)", [1, 5])
            }
            #expect(unique?.kind == .server)
            #expect(unique?.code == .uniqueViolation)
            #expect(unique?.constraint == "account_pkey")

            let check = await #expect(throws: PostgresError.self) {
                try await connection.execute("UPDATE account SET balance = balance - $1 WHERE id = 1", [11])
            }
            #expect(check?.code == .checkViolation)
            #expect(check?.constraint == "balance_not_negative")

            let notNull = await #expect(throws: PostgresError.self) {
                try await connection.execute("INSERT INTO account VALUES ($1, $2)", [2, nil as Int?])
            }
            #expect(notNull?.code == .notNullViolation)

            let syntax = await #expect(throws: PostgresError.self) { try await connection.execute("SELEC 1") }
            #expect(syntax?.code == PostgresError.Code("42601"))
            // The connection is still good after each.
            #expect(try await connection.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        }
    }

    @Test func serializationFailureIsRecognised() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let first = try await database.connect()
            let second = try await database.connect()
            try await first.executeScript("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0);")
            try await first.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT n FROM counter;")
            try await second.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT n FROM counter;")
            try await first.execute("UPDATE counter SET n = n + 1")
            try await first.executeScript("COMMIT")
            let error = await #expect(throws: PostgresError.self) { try await second.execute("UPDATE counter SET n = n + 1") }
            #expect(error?.code == .serializationFailure)
            #expect(error?.isTransientConflict == true)
            try await second.executeScript("ROLLBACK")
        }
    }

    @Test func deadlockIsRecognised() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let first = try await database.connect()
            let second = try await database.connect()
            try await first.executeScript("CREATE TABLE lockme (id int PRIMARY KEY); INSERT INTO lockme VALUES (1), (2);")
            try await first.executeScript("BEGIN; SELECT * FROM lockme WHERE id = 1 FOR UPDATE;")
            try await second.executeScript("BEGIN; SELECT * FROM lockme WHERE id = 2 FOR UPDATE;")
            // Each now waits for the other's row: the server breaks the cycle
            // by failing one of them with 40P01.
            async let a = Result { try await first.executeScript("SELECT * FROM lockme WHERE id = 2 FOR UPDATE") }
            async let b = Result { try await second.executeScript("SELECT * FROM lockme WHERE id = 1 FOR UPDATE") }
            let outcomes = await [a, b]
            let codes = outcomes.compactMap { outcome -> PostgresError.Code? in
                if case .failure(let error as PostgresError) = outcome { return error.code }
                return nil
            }
            #expect(codes == [.deadlockDetected])
            try await first.executeScript("ROLLBACK")
            try await second.executeScript("ROLLBACK")
        }
    }

    @Test func aStatementCutOffByTheServerIsALostConnection() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let victim = try await database.connect()
            let killer = try await database.connect()
            let pid = await victim.backendPID
            let sleeping = Task { try await victim.query("SELECT pg_sleep(30)") }
            try await waitUntil(killer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", pid, equals: 1)
            try await killer.query("SELECT pg_terminate_backend($1)", [pid])
            let lost = await #expect(throws: PostgresError.self) { try await sleeping.value }
            #expect(lost?.kind == .connectionLost)
            // The next call opens a new session.
            #expect(try await victim.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
            #expect(await victim.backendPID != pid)
        }
    }

    @Test func anIdleSessionEndedByTheServerIsReplacedBeforeUse() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let victim = try await database.connect()
            let killer = try await database.connect()
            let pid = await victim.backendPID
            try await killer.query("SELECT pg_terminate_backend($1)", [pid])
            try await waitUntil(killer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid, equals: 0)
            // The backend leaves pg_stat_activity a moment before its
            // process exits and the kernel closes the socket; a statement
            // sent in that moment is lost (and reported as such).
            try await Task.sleep(for: .milliseconds(300))
            // Nothing was in flight, so nothing is lost: the call succeeds on a new session.
            #expect(try await victim.query("SELECT 3 AS three")[0].decode("three", as: Int.self) == 3)
            #expect(await victim.backendPID != pid)
        }
    }

    private func waitUntil(_ connection: PostgresConnection, _ sql: String, _ pid: Int32, equals expected: Int) async throws {
        for _ in 0..<500 {
            if try await connection.query(sql, [pid])[0].decode(column: 0, as: Int.self) == expected { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition never met: \(sql)")
    }
}

extension Result where Failure == Error {
    fileprivate init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
