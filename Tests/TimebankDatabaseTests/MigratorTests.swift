import Foundation
import PostgresClient
import TestSupport
import TimebankDatabase
import Testing

@Suite struct MigratorTests {
    func count(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        try await connection.query(sql)[0].decode(column: 0, as: Int.self)
    }

    @Test func appliesTheProjectsMigrationsOnceInOrder() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let migrator = try Migrator.project()
            let migrations = migrator.migrations
            #expect(migrations.first?.fileName == "0001_schemas_and_roles.sql")
            #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
            #expect(migrator.definitions.contains { $0.path == "functions/settlement/settle.sql" })

            let first = try await migrator.migrate(connection)
            #expect(first.applied == migrations.map(\.fileName))
            #expect(first.definitionsApplied)
            let second = try await migrator.migrate(connection)
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == migrations.count)
            #expect(!second.definitionsApplied)
            #expect(try await migrator.pending(connection).isEmpty)
            #expect(try await migrator.isCurrent(connection))

            // 0001: DESIGN.md's schemas and one role per worker, the API and analysts.
            let schemas = try await connection.query(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname",
                [["api", "bank", "jobs", "reporting"]])
            #expect(schemas.count == 4)
            let roles = try await count(connection, """
                SELECT count(*) FROM pg_roles WHERE rolname IN ('timebank_enrollment', 'timebank_order',
                'timebank_settlement', 'timebank_notification', 'timebank_insurance_claim', 'timebank_api',
                'timebank_analyst') AND NOT rolcanlogin
                """)
            #expect(roles == 7)
        }
    }

    /// Two migrators at once: the advisory lock makes one wait, so both
    /// succeed and each file runs once. Without the lock the second would
    /// run the slow file too and fail on its record's primary key.
    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let migrations = [
                Migration(version: 1, name: "slow", sql: "CREATE TABLE runs (file int); INSERT INTO runs VALUES (1); SELECT pg_sleep(0.5);"),
                Migration(version: 2, name: "second", sql: "INSERT INTO runs VALUES (2);"),
            ]
            let a = try await database.connect()
            let b = try await database.connect()
            async let first = Migrator(migrations: migrations).migrate(a)
            async let second = Migrator(migrations: migrations).migrate(b)
            let outcomes = try await [first, second]
            #expect(outcomes.map(\.applied.count).sorted() == [0, 2])
            #expect(try await count(a, "SELECT count(*) FROM runs") == 2)
            #expect(try await count(a, "SELECT count(*) FROM meta.applied_migrations") == 2)
        }
    }

    @Test func anEditedAppliedMigrationIsRefused() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let original = Migration(version: 1, name: "accounts", sql: "CREATE TABLE accounts (id int);")
            try await Migrator(migrations: [original]).migrate(connection)

            var edited = original
            edited.sql = "CREATE TABLE accounts (id bigint);"
            let later = Migration(version: 2, name: "later", sql: "CREATE TABLE later (id int);")
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(migrations: [edited, later]).migrate(connection)
            }
            #expect(error?.kind == .checksumMismatch)
            #expect(error?.description.contains("0001_accounts.sql") == true)
            // Nothing after the refused file ran.
            #expect(try await count(connection, "SELECT count(*) FROM meta.applied_migrations") == 1)
            #expect(try await count(connection, "SELECT count(*) FROM pg_tables WHERE tablename = 'later'") == 0)
            await #expect(throws: MigrationError.self) { try await Migrator(migrations: [edited]).pending(connection) }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let broken = Migration(version: 1, name: "broken", sql: "CREATE TABLE half (id int); SELECT 1 / 0;")
            let error = await #expect(throws: MigrationError.self) { try await Migrator(migrations: [broken]).migrate(connection) }
            #expect(error?.kind == .failed)
            #expect(error?.description.contains("0001_broken.sql") == true)
            #expect(try await count(connection, "SELECT count(*) FROM pg_tables WHERE tablename = 'half'") == 0)
            #expect(try await count(connection, "SELECT count(*) FROM meta.applied_migrations") == 0)

            let fixed = Migration(version: 1, name: "broken", sql: "CREATE TABLE half (id int);")
            #expect(try await Migrator(migrations: [fixed]).migrate(connection).applied == ["0001_broken.sql"])
        }
    }

    @Test func loadsNumberedFilesAndRefusesBadNames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 2;".write(to: directory.appendingPathComponent("0010_tenth.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: directory.appendingPathComponent("0002_second.sql"), atomically: true, encoding: .utf8)
        try "notes".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let loaded = try Migration.load(from: directory)
        #expect(loaded.map(\.fileName) == ["0002_second.sql", "0010_tenth.sql"])

        try "SELECT 3;".write(to: directory.appendingPathComponent("0002_again.sql"), atomically: true, encoding: .utf8)
        let duplicate = #expect(throws: MigrationError.self) { try Migration.load(from: directory) }
        #expect(duplicate?.kind == .badFileName)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("0002_again.sql"))

        try "SELECT 4;".write(to: directory.appendingPathComponent("setup.sql"), atomically: true, encoding: .utf8)
        let unnumbered = #expect(throws: MigrationError.self) { try Migration.load(from: directory) }
        #expect(unnumbered?.description.contains("setup.sql") == true)
    }
}
