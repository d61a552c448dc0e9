import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite struct TransactionTests {
    struct Boom: Error {}

    @Test func commitsWhenTheBodyReturns() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (n int)")
            let inserted = try await connection.transaction { connection in
                try connection.execute("INSERT INTO t VALUES ($1), ($2)", [Int32(1), Int32(2)])
            }
            #expect(inserted == 2)
            #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int.self) == 2)
            #expect(await connection.inTransaction == false)
        }
    }

    @Test func rollsBackWhenTheBodyThrows() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (n int)")
            await #expect(throws: Boom.self) {
                try await connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int.self) == 0)
            #expect(await connection.inTransaction == false)
        }
    }

    @Test func aSwallowedErrorCannotCommit() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (n int PRIMARY KEY)")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    _ = try? connection.execute("INSERT INTO t VALUES (1)")  // fails; transaction now aborted
                }
            }
            #expect(error?.description.contains("rolled") == true)
            #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int.self) == 0)
        }
    }

    @Test func isolationLevelAndReadOnlyApply() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let level = try await connection.transaction(isolation: .serializable, readOnly: true) { connection in
                try connection.query("SHOW transaction_isolation")[0].decode(column: 0, as: String.self)
            }
            #expect(level == "serializable")
            let readOnly = await #expect(throws: PostgresError.self) {
                try await connection.transaction(readOnly: true) { connection in
                    try connection.executeScript("CREATE TABLE nope (n int)")
                }
            }
            #expect(readOnly?.code == PostgresError.Code("25006"))
            let repeatable = try await connection.transaction(isolation: .repeatableRead) { connection in
                try connection.query("SHOW transaction_isolation")[0].decode(column: 0, as: String.self)
            }
            #expect(repeatable == "repeatable read")
        }
    }
}
