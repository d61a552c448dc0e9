import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase

/// A database of its own for one test: created from a template that holds
/// every migration, so tests run in parallel without seeing each other's
/// rows, and each starts from the schema a fresh `timebank migrate` gives.
///
/// The server is `DATABASE_URL` (the test command sets it to the test
/// cluster it starts); without it, the checkout's local cluster.
public struct TestDatabase: Sendable {
    public let name: String
    public let settings: ConnectionSettings

    /// Runs `body` with a new database, dropped afterwards.
    public static func with<T: Sendable>(
        migrated: Bool = true,
        _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let database = try await create(migrated: migrated)
        do {
            let value = try await body(database)
            await database.drop()
            return value
        } catch {
            await database.drop()
            throw error
        }
    }

    public static func create(migrated: Bool = true) async throws -> TestDatabase {
        let server = try await TestServer.shared.settings()
        let name = "t_" + UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: "")
        let template = migrated ? try await TestServer.shared.migratedTemplate() : "template0"
        let admin = try await PostgresConnection.connect(server.withDatabase("postgres"))
        try await createDatabase(admin, name: name, template: template)
        await admin.close()
        return TestDatabase(name: name, settings: server.withDatabase(name))
    }

    public func connect(applicationName: String = "timebank-test") async throws -> PostgresConnection {
        var settings = self.settings
        settings.applicationName = applicationName
        return try await PostgresConnection.connect(settings)
    }

    /// Drops the database, ending any session still connected to it.
    public func drop() async {
        guard let admin = try? await PostgresConnection.connect(settings.withDatabase("postgres")) else { return }
        _ = try? await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }

    static func createDatabase(_ admin: PostgresConnection, name: String, template: String) async throws {
        // CREATE DATABASE fails while another session is in the template;
        // parallel tests may be creating from it at the same moment.
        var attempt = 0
        while true {
            do {
                try await admin.executeScript("CREATE DATABASE \(name) TEMPLATE \(template)")
                return
            } catch let error as PostgresError where error.code == .objectInUse && attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(20 * attempt))
            }
        }
    }
}

/// The server the tests use and its migrated template, set up once per
/// test process.
actor TestServer {
    static let shared = TestServer()

    private var server: Task<ConnectionSettings, Error>?
    private var template: Task<String, Error>?

    func settings() async throws -> ConnectionSettings {
        if server == nil {
            // R23: the tests' personal-data key, in the environment, so that the worker processes
            // the tests start get it as production workers do.
            if ProcessInfo.processInfo.environment[PersonalDataKey.environmentVariable] == nil {
                setenv(PersonalDataKey.environmentVariable, "timebank-test-personal-data-key-0123456789", 1)
            }
            server = Task { try await LocalCluster.resolveSettings(applicationName: "timebank-test") }
        }
        return try await server!.value
    }

    func migratedTemplate() async throws -> String {
        if template == nil {
            let server = try await settings()
            template = Task { try await Self.buildTemplate(server) }
        }
        return try await template!.value
    }

    /// One template per set of sql/ files (named by their hash), built
    /// under an advisory lock so that two test processes never race.
    private static func buildTemplate(_ server: ConnectionSettings) async throws -> String {
        let migrator = try Migrator.project()
        let name = "tb_template_" + fingerprint(migrator)
        let admin = try await PostgresConnection.connect(server.withDatabase("postgres"))
        try await admin.query("SELECT pg_advisory_lock($1)", [Migrator.advisoryLockKey])
        let ready = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate", [name])
        if ready.isEmpty {
            try await admin.executeScript("DROP DATABASE IF EXISTS \(name)")
            try await admin.executeScript("CREATE DATABASE \(name)")
            let connection = try await PostgresConnection.connect(server.withDatabase(name))
            try await migrator.migrate(connection)
            // Issue 19: the tests' databases are development databases (their clock moves:
            // bank.development_clock); a test of a production database removes the mark.
            try await LocalCluster.markDevelopment(connection, by: "the tests' template")
            await connection.close()
            // Marked a template only once complete: a crash midway leaves a
            // database the next run drops and rebuilds.
            try await admin.executeScript("ALTER DATABASE \(name) WITH IS_TEMPLATE true")
        }
        try await admin.query("SELECT pg_advisory_unlock($1)", [Migrator.advisoryLockKey])
        await admin.close()
        return name
    }

    /// FNV-1a over the files, enough to tell sets of sql/ files apart.
    private static func fingerprint(_ migrator: Migrator) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let files = migrator.migrations.map { ("\($0.version)", $0.sql) } + migrator.definitions.map { ($0.path, $0.sql) }
        for (name, text) in files {
            for byte in "\(name)\u{0}\(text)\u{0}".utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }
}
