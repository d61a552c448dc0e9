import Foundation
import PostgresClient
import TestSupport
import Testing

/// Decoding by column name, and errors that say which column and which
/// types did not fit.
@Suite struct RowDecodingTests {
    @Test func decodesByNameInAnyOrder() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let rows = try await connection.query("SELECT 1::int AS a, 'two' AS b, 3.5::float8 AS c FROM generate_series(1, 3)")
            #expect(rows.count == 3)
            #expect(rows.columns == ["a", "b", "c"])
            for row in rows {
                #expect(try row.decode("c", as: Double.self) == 3.5)
                #expect(try row.decode("a", as: Int.self) == 1)
                #expect(try row.decode("b", as: String.self) == "two")
                #expect(try row.decode(column: 0, as: Int32.self) == 1)
            }
        }
    }

    @Test func mismatchNamesColumnAndBothTypes() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let rows = try await connection.query("SELECT 42::bigint AS balance, NULL::text AS note, 'x'::text AS word")
            let mismatch = #expect(throws: PostgresError.self) { try rows[0].decode("balance", as: UUID.self) }
            #expect(mismatch?.kind == .decoding)
            #expect(mismatch?.description.contains("\"balance\"") == true)
            #expect(mismatch?.description.contains("bigint") == true)
            #expect(mismatch?.description.contains("UUID") == true)

            let null = #expect(throws: PostgresError.self) { try rows[0].decode("note", as: String.self) }
            #expect(null?.description.contains("\"note\" is NULL") == true)

            let notNumber = #expect(throws: PostgresError.self) { try rows[0].decode("word", as: Int.self) }
            #expect(notNumber?.description.contains("text") == true)

            let missing = #expect(throws: PostgresError.self) { try rows[0].decode("nope", as: Int.self) }
            #expect(missing?.description.contains("no column \"nope\"") == true)
        }
    }

    @Test func narrowingOverflowIsAnError() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let rows = try await connection.query("SELECT 70000 AS big")
            #expect(throws: PostgresError.self) { try rows[0].decode("big", as: Int16.self) }
            #expect(try rows[0].decode("big", as: Int32.self) == 70000)
        }
    }

    @Test func arrayElementsAreCheckedToo() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let rows = try await connection.query("SELECT ARRAY[1, NULL, 3]::int[] AS a, '[0:1]={5,6}'::int[] AS shifted")
            #expect(try rows[0].decode("a", as: [Int?].self) == [1, nil, 3])
            #expect(try rows[0].decode("shifted", as: [Int].self) == [5, 6])
            let error = #expect(throws: PostgresError.self) { try rows[0].decode("a", as: [Int].self) }
            #expect(error?.description.contains("a[2]") == true)
        }
    }
}
