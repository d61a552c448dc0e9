import DevCluster
import Foundation
import PostgresClient
import TestSupport
import Testing

/// Issue 16, item 5: the driver through PgBouncer 1.18 in transaction
/// mode, where each transaction may run on another server session.
@Suite(.serialized) struct TransactionPoolingTests {
    /// Sessions open on `database` now, seen from another database (so the looking one is not counted).
    /// The server sessions PgBouncer opened to `database`: its own backends
    /// only (application_name is not ours), so a test's setup session still
    /// exiting on a loaded machine is not counted as one of them.
    func serverSessions(_ admin: PostgresConnection, _ database: String) async throws -> Int {
        try await admin.query("""
            SELECT count(*)::bigint AS n FROM pg_stat_activity
             WHERE datname = $1::text AND backend_type = 'client backend' AND pid <> pg_backend_pid()
               AND application_name IS DISTINCT FROM $2::text
            """, [database, Self.setupName])[0].decode("n")
    }

    static let setupName = "timebank-pooling-test-setup"

    /// Named statements live in the server session: a second client lent
    /// the same server session finds the first one's `tb1` there. (Lent
    /// another, it would find its own `tb1` missing, or run someone else's.)
    @Test func namedStatementsCollideBehindTransactionPooling() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let bouncer = try await PgBouncer.start(inFrontOf: database.settings, users: [], poolSize: 1)
            defer { bouncer.stop() }
            var named = bouncer.settings(for: database.settings)
            named.preparedStatements = .named
            let first = try await PostgresConnection.connect(named)
            let second = try await PostgresConnection.connect(named)
            #expect(try await first.query("SELECT $1::int + 1 AS n", [1])[0].decode("n", as: Int.self) == 2)
            let error = await #expect(throws: PostgresError.self) {
                try await second.query("SELECT $1::int + 2 AS n", [1])
            }
            #expect(error?.message.contains("already exists") == true, "\(String(describing: error))")
            await first.close()
            await second.close()
        }
    }

    /// Unnamed statements: eight clients with statements of their own, in
    /// plain queries, pipelines and transactions, on two server sessions,
    /// and every answer is the client's own.
    @Test func unnamedStatementsWorkForManyClientsOnFewServerSessions() async throws {
        try await TestDatabase.with(migrated: false) { database in
            var setupSettings = database.settings
            setupSettings.applicationName = Self.setupName
            let setup = try await PostgresConnection.connect(setupSettings)
            try await setup.executeScript("CREATE TABLE t (client int, n int, PRIMARY KEY (client, n))")
            await setup.close()
            let bouncer = try await PgBouncer.start(inFrontOf: database.settings, users: [], poolSize: 2)
            defer { bouncer.stop() }
            let admin = try await PostgresConnection.connect(database.settings.withDatabase("postgres"))
            let clients = 8
            let connections = try await (0..<clients).asyncMap { _ in try await PostgresConnection.connect(bouncer.settings(for: database.settings)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (client, connection) in connections.enumerated() {
                    group.addTask {
                        for n in 0..<40 {
                            // A statement text of this client's own: a shared name would answer for another.
                            let sum: Int = try await connection.query("SELECT $1::int + \(client * 1000) AS n", [n])[0].decode("n")
                            #expect(sum == n + client * 1000)
                            let results = try await connection.pipeline([
                                PostgresStatement("INSERT INTO t VALUES ($1, $2) RETURNING n", [client, n]),
                                PostgresStatement("SELECT count(*)::int AS c FROM t WHERE client = $1", [client]),
                            ])
                            #expect(try results[1][0].decode("c", as: Int.self) == n + 1)
                            let inside: Int = try await connection.transaction { connection in
                                try connection.query("SELECT max(n) AS m FROM t WHERE client = $1 + \(0 * client)", [client])[0].decode("m")
                            }
                            #expect(inside == n)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let sessions = try await serverSessions(admin, database.name)
            #expect(sessions <= bouncer.poolSize, "\(clients) clients on \(sessions) server sessions")
            #expect(try await connections[0].query("SELECT count(*)::int AS c FROM t")[0].decode("c", as: Int.self) == clients * 40)
            for connection in connections { await connection.close() }
            await admin.close()
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
