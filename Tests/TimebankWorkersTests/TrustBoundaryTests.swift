import Foundation
import PostgresClient
import TestSupport
import Testing

extension Bank {
    /// A real login of its own (not the superuser with SET ROLE), a member of
    /// `roles` (none: any login at all), connected to this bank's database.
    /// Dropped when `body` ends.
    func asLogin<T: Sendable>(memberOf roles: [String], _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let name = "attacker_" + UUID().uuidString.prefix(8).lowercased()
        try await owner.execute("CREATE ROLE \(name) LOGIN" + (roles.isEmpty ? "" : " IN ROLE " + roles.joined(separator: ", ")))
        let conninfo = database.settings.conninfoWithDatabase
        let login = conninfo.hasPrefix("postgres") ? conninfo + "&user=\(name)" : conninfo + " user=\(name)"
        do {
            let connection = try await PostgresConnection.connect(ConnectionSettings(conninfo: login))
            let value = try await body(connection)
            await connection.close()
            _ = try? await owner.execute("DROP ROLE \(name)")
            return value
        } catch {
            _ = try? await owner.execute("DROP ROLE \(name)")
            throw error
        }
    }
}

extension BankSuites {
    /// Issue 15: the boundaries, attacked as each role's own login. (This
    /// session covers finding 6 in part and finding 7, in ClaimDeliveryTests.)
    @Suite struct TrustBoundaryTests {
        /// Finding 6: any login executed pgcrypto and the jobs functions. Now
        /// PUBLIC executes neither; the worker roles keep what they use.
        @Test func anyLoginExecutesNeitherTheJobFunctionsNorPgcrypto() async throws {
            try await Bank.with(workers: false) { bank in
                let attacks = [
                    "SELECT jobs.enqueue('settlement.grant', '{\"request_id\": 1}', 'settlement')",
                    "SELECT jobs.wake('settlement')",
                    "SELECT public.pgp_sym_decrypt('\\x00'::bytea, 'some key')",
                    "SELECT public.hmac('body', 'secret', 'sha256')",
                    "SELECT public.digest('x', 'sha256')",
                    "SELECT bank.personal_data_decrypt('\\x00'::bytea)",
                ]
                /// Each call refused for want of a privilege (WITH ... AS MATERIALIZED: PostgreSQL
                /// checks EXECUTE only when a function's result is used).
                func expectRefused(_ connection: PostgresConnection, _ calls: some Sequence<String>) async throws {
                    for sql in calls {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") {
                            try await connection.query("WITH r AS MATERIALIZED (\(sql) AS x) SELECT count(*) FROM r")
                        }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                }
                try await bank.asLogin(memberOf: []) { connection in try await expectRefused(connection, attacks) }
                // The order worker's login decrypts nothing either (it reads no ciphertext, but the
                // functions are closed to it too), while it still enqueues its follow-up jobs.
                try await bank.asLogin(memberOf: ["timebank_order"]) { connection in
                    try await expectRefused(connection, attacks[2...])
                    let allowed = try await connection.query(
                        "SELECT has_function_privilege('jobs.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, text)', 'EXECUTE') AS ok")
                    #expect(try allowed[0].decode("ok", as: Bool.self))
                }
                try await bank.asLogin(memberOf: ["timebank_notification"]) { connection in
                    let row = try await connection.query("""
                        SELECT has_function_privilege('public.hmac(text, text, text)', 'EXECUTE') AS sign,
                               has_function_privilege('public.pgp_sym_decrypt(bytea, text)', 'EXECUTE') AS decrypt,
                               has_function_privilege('public.pgp_sym_encrypt(text, text)', 'EXECUTE') AS encrypt
                        """)[0]
                    #expect(try row.decode("sign", as: Bool.self) && row.decode("decrypt", as: Bool.self))
                    #expect(try !row.decode("encrypt", as: Bool.self))
                }
            }
        }
        /// What issue 14 added is the owner's alone: the migrator's record of the definitions,
        /// and the operators' views of the queues and workers. A worker's own login can
        /// neither read them nor mark the definitions applied (which would hide a stale set).
        @Test func aWorkerLoginReadsNoOperatorsViewAndWritesNoMigrationRecord() async throws {
            try await Bank.with(workers: false) { bank in
                try await bank.asLogin(memberOf: ["timebank_settlement"]) { connection in
                    for sql in ["SELECT count(*) FROM jobs.queue_depth", "SELECT count(*) FROM jobs.worker_state",
                                "SELECT count(*) FROM meta.applied_definitions",
                                "UPDATE meta.applied_definitions SET checksum = 'x'", "DELETE FROM meta.applied_migrations"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await connection.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                }
            }
        }
    }
}
