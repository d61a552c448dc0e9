import Foundation
import PostgresClient
import TestSupport
import Testing

/// Where settings come from, what a failed connect says, and that no
/// password ever shows.
@Suite struct ConnectionSettingsTests {
    @Test func databaseURLComesFirstThenPGVariables() {
        let url = ConnectionSettings.fromEnvironment(["DATABASE_URL": "postgresql://a@h/db", "PGHOST": "other"])
        #expect(url?.conninfo == "postgresql://a@h/db")
        let pg = ConnectionSettings.fromEnvironment(["PGHOST": "db.internal", "PGUSER": "svc"])
        #expect(pg?.conninfo == "")  // libpq reads the PG* variables itself
        #expect(ConnectionSettings.fromEnvironment(["HOME": "/root"]) == nil)
        #expect(ConnectionSettings.fromEnvironment(["DATABASE_URL": ""]) == nil)
    }

    @Test func redactionHidesThePassword() {
        let uri = ConnectionSettings(conninfo: "postgresql://worker:s3cret-pw@db.internal:5433/timebank?sslmode=require")
        #expect(!uri.redacted.contains("s3cret-pw"))
        #expect(uri.redacted.contains("password=****"))
        #expect(uri.redacted.contains("host=db.internal"))
        let keyValue = ConnectionSettings(conninfo: "host=db user=worker password='s3cret pw' dbname=timebank")
        #expect(!"\(keyValue)".contains("s3cret"))
        #expect(keyValue.withDatabase("other").redacted.contains("dbname=other"))
        #expect(keyValue.withDatabase("other").conninfoWithDatabase.hasSuffix("dbname='other'"))
        #expect(uri.withDatabase("b").conninfoWithDatabase.hasSuffix("?sslmode=require&dbname=b"))
    }

    @Test func unreachableHostIsNamed() async throws {
        let settings = ConnectionSettings(conninfo: "postgresql://nobody:pw-never-shown@127.0.0.1:1/none", connectTimeoutSeconds: 3)
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(settings) }
        #expect(error?.kind == .connect(.hostUnreachable))
        #expect(error?.description.contains("pw-never-shown") == false)
    }

    @Test func missingDatabaseAndRoleAreNamed() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let missingDatabase = await #expect(throws: PostgresError.self) {
                try await PostgresConnection.connect(database.settings.withDatabase("no_such_database_here"))
            }
            #expect(missingDatabase?.kind == .connect(.databaseMissing))

            var noRole = database.settings
            noRole.conninfo += noRole.conninfo.contains("?") ? "&user=no_such_role" : "?user=no_such_role"
            let missingRole = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(noRole) }
            #expect(missingRole?.kind == .connect(.roleMissing))
        }
    }

    /// The local cluster asks members of `password_login` for a password.
    @Test func wrongPasswordIsAnAuthenticationErrorWithoutThePassword() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let admin = try await database.connect()
            let role = "pw_\(database.name)"
            try await admin.executeScript("""
                DO $$ BEGIN CREATE ROLE password_login NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                CREATE ROLE \(role) LOGIN PASSWORD 'right-horse-battery' IN ROLE password_login;
                """)
            func as_(_ password: String) -> ConnectionSettings {
                var settings = database.settings
                settings.conninfo += (settings.conninfo.contains("?") ? "&" : "?") + "user=\(role)&password=\(password)"
                return settings
            }
            let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(as_("wrong-staple-guess")) }
            #expect(error?.kind == .connect(.authentication))
            #expect(error?.description.contains("wrong-staple-guess") == false)
            // The right one works, so the failure was the password's.
            let connection = try await PostgresConnection.connect(as_("right-horse-battery"))
            #expect(try await connection.query("SELECT current_user AS u")[0].decode("u", as: String.self) == role)
            await connection.close()
            try await admin.executeScript("DROP ROLE \(role)")
        }
    }
}
