import Foundation
import PostgresClient
import TestSupport
import TimebankDatabase
import Testing

/// The definitions (sql/functions, sql/views, sql/privileges): applied as
/// one set after the migrations whenever any changed; see sql/README.md.
@Suite struct DefinitionTests {
    static let schema = Migration(version: 1, name: "schema", sql: "CREATE SCHEMA bank;")

    static func function(_ name: String, returning value: Int) -> Definition {
        Definition(path: "functions/\(name).sql",
                   sql: "CREATE OR REPLACE FUNCTION bank.\(name)() RETURNS integer LANGUAGE sql RETURN \(value);")
    }

    func value(_ connection: PostgresConnection, _ function: String) async throws -> Int {
        try await connection.query("SELECT bank.\(function)() AS v")[0].decode("v", as: Int.self)
    }

    @Test func anEditedDefinitionIsAppliedAgainAndAnUnchangedSetIsLeftAlone() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let first = try await Migrator(migrations: [Self.schema], definitions: [Self.function("answer", returning: 41)]).migrate(connection)
            #expect(first.definitionsApplied)
            #expect(try await value(connection, "answer") == 41)
            let unchanged = try await Migrator(migrations: [Self.schema], definitions: [Self.function("answer", returning: 41)]).migrate(connection)
            #expect(!unchanged.definitionsApplied)
            let edited = Migrator(migrations: [Self.schema], definitions: [Self.function("answer", returning: 42)])
            #expect(try await !edited.isCurrent(connection))
            #expect(try await edited.migrate(connection).definitionsApplied)
            #expect(try await value(connection, "answer") == 42)
            #expect(try await edited.isCurrent(connection))
        }
    }

    /// A function whose SQL-standard body calls another file's function is
    /// created after it, whatever the files' order.
    @Test func filesAreAppliedAfterTheOnesTheyNeed() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let caller = Definition(path: "functions/a_caller.sql",
                                    sql: "CREATE OR REPLACE FUNCTION bank.caller() RETURNS integer LANGUAGE sql RETURN bank.zed() + 1;")
            let view = Definition(path: "views/v.sql", sql: "CREATE OR REPLACE VIEW bank.v AS SELECT bank.caller() AS c;")
            try await Migrator(migrations: [Self.schema], definitions: [caller, Self.function("zed", returning: 1), view]).migrate(connection)
            #expect(try await connection.query("SELECT c FROM bank.v")[0].decode("c", as: Int.self) == 2)
        }
    }

    /// A function no file defines any more (renamed, or its parameters
    /// changed, which CREATE OR REPLACE makes a second function of) is
    /// refused by name, and nothing of the run is kept.
    @Test func aFunctionNoFileDefinesIsRefusedByName() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await Migrator(migrations: [Self.schema], definitions: [Self.function("old_name", returning: 1)]).migrate(connection)
            let renamed = Migrator(migrations: [Self.schema], definitions: [Self.function("new_name", returning: 1)])
            let error = await #expect(throws: MigrationError.self) { try await renamed.migrate(connection) }
            #expect(error?.kind == .leftoverDefinition)
            #expect(error?.description.contains("function bank.old_name()") == true)
            let left = try await connection.query("SELECT to_regprocedure('bank.new_name()') IS NULL AS gone")
            #expect(try left[0].decode("gone", as: Bool.self), "the failed run created nothing")

            // The deliberate way: a numbered migration drops the old one.
            let drop = Migration(version: 2, name: "drop_old_name", sql: "DROP FUNCTION bank.old_name();")
            let outcome = try await Migrator(migrations: [Self.schema, drop], definitions: [Self.function("new_name", returning: 1)]).migrate(connection)
            #expect(outcome.applied == ["0002_drop_old_name.sql"] && outcome.definitionsApplied)
        }
    }

    @Test func aReturnTypeChangeIsRefusedWithTheWayToMakeIt() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await Migrator(migrations: [Self.schema], definitions: [Self.function("answer", returning: 1)]).migrate(connection)
            let retyped = Definition(path: "functions/answer.sql",
                                     sql: "CREATE OR REPLACE FUNCTION bank.answer() RETURNS text LANGUAGE sql RETURN 'one';")
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(migrations: [Self.schema], definitions: [retyped]).migrate(connection)
            }
            #expect(error?.file == "functions/answer.sql")
            #expect(error?.description.contains("numbered migration") == true)
            #expect(try await value(connection, "answer") == 1)
        }
    }

    /// The pending migrations and the definitions are one transaction: a
    /// definition that fails leaves the migrations before it unapplied too.
    @Test func anUpgradeAppliesWholeOrNotAtAll() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let table = Migration(version: 2, name: "table", sql: "CREATE TABLE bank.t (a int);")
            let broken = Definition(path: "functions/broken.sql",
                                    sql: "CREATE OR REPLACE FUNCTION bank.broken() RETURNS integer LANGUAGE sql RETURN bank.nowhere();")
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(migrations: [Self.schema, table], definitions: [broken]).migrate(connection)
            }
            #expect(error?.file == "functions/broken.sql" && error?.description.contains("no other file defines it") == true, "\(String(describing: error))")
            let left = try await connection.query("SELECT to_regnamespace('bank') IS NULL AS none, to_regclass('meta.applied_migrations') AS m")
            #expect(try left[0].decode("none", as: Bool.self), "0001 was rolled back with the rest")
        }
    }

    /// With check_function_bodies off while the files are created in any
    /// order, each body is validated afterwards: a plpgsql syntax error is
    /// refused at migrate time, naming the function, not at its first call.
    @Test func aFunctionBodyThatDoesNotCompileIsRefusedByName() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let typo = Definition(path: "functions/typo.sql", sql: """
                CREATE OR REPLACE FUNCTION bank.typo() RETURNS integer LANGUAGE plpgsql AS $$
                BEGIN RETURN 1 END
                $$;
                """)
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(migrations: [Self.schema], definitions: [typo]).migrate(connection)
            }
            #expect(error?.description.contains("bank.typo()") == true, "\(String(describing: error))")
        }
    }

    /// `rewritten.txt`: an applied migration whose text changed is accepted
    /// only when the checksum the database recorded is listed for it.
    @Test func aRewrittenMigrationIsAcceptedOnlyFromTheListedText() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let original = Migration(version: 1, name: "t", sql: "CREATE TABLE t (a int);")
            try await Migrator(migrations: [original]).migrate(connection)
            let rewrittenText = Migration(version: 1, name: "t", sql: "-- the same table, reworded\nCREATE TABLE t (a int);")
            let recorded = try await connection.query("SELECT checksum FROM meta.applied_migrations")[0].decode("checksum", as: String.self)

            let unlisted = RewrittenMigration(version: 1, previousChecksum: String(repeating: "0", count: 64), reason: "other")
            await #expect(throws: MigrationError.self) {
                try await Migrator(migrations: [rewrittenText], rewritten: [unlisted]).migrate(connection)
            }
            let listed = try RewrittenMigration.parse("# comment\n0001 \(recorded) reworded\n")
            let outcome = try await Migrator(migrations: [rewrittenText], rewritten: listed).migrate(connection)
            #expect(outcome.rewritten == ["0001_t.sql"])
            #expect(try await Migrator(migrations: [rewrittenText]).pending(connection).isEmpty, "the record follows the new text")
        }
    }
}
