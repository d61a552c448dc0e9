import Foundation
import PostgresClient
import TestSupport
import Testing

/// Many statements in one round trip (libpq pipeline mode).
@Suite struct PipelineTests {
    @Test func runsManyStatementsInOrder() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (n bigint PRIMARY KEY, label text)")
            let inserts = (1...500).map { PostgresStatement("INSERT INTO t VALUES ($1, $2) RETURNING n", [$0, "row \($0)"]) }
            let results = try await connection.pipeline(inserts + [PostgresStatement("SELECT count(*) AS n FROM t")])
            #expect(results.count == 501)
            #expect(try results[41][0].decode("n", as: Int.self) == 42)
            #expect(try results[500][0].decode("n", as: Int.self) == 500)
            // Prepared statements from the pipeline serve later calls too.
            let again = try await connection.pipeline([PostgresStatement("INSERT INTO t VALUES ($1, $2) RETURNING n", [501, "x"])])
            #expect(try again[0][0].decode("n", as: Int.self) == 501)
        }
    }

    @Test func aFailureUndoesTheWholePipeline() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (n bigint PRIMARY KEY)")
            let statements = [
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),  // duplicate key
                PostgresStatement("INSERT INTO t VALUES ($1)", [2]),
            ]
            let error = await #expect(throws: PostgresError.self) { try await connection.pipeline(statements) }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.message.contains("statement 2 of 3") == true)
            #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int.self) == 0)
            // The connection is usable, and a good pipeline still works.
            _ = try await connection.pipeline([PostgresStatement("INSERT INTO t VALUES ($1)", [3])])
            #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int.self) == 1)
        }
    }

    @Test func aBadStatementTextFailsCleanly() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let error = await #expect(throws: PostgresError.self) {
                try await connection.pipeline([PostgresStatement("SELECT 1"), PostgresStatement("SELEKT 2")])
            }
            #expect(error?.code == PostgresError.Code("42601"))
            #expect(try await connection.query("SELECT 3 AS n")[0].decode("n", as: Int.self) == 3)
        }
    }
}
