import Foundation
import PostgresClient

/// The console's accounts, for the DBA (`timebank console accounts`): the
/// owner's functions of sql/functions/console/accounts.sql, which the
/// console's own role cannot call.
public enum ConsoleAccounts {
    public struct Account: Sendable, Equatable {
        public var login: String
        public var power: String
        public var staffCode: String?
        public var active: Bool
        public var createdAt: Date
        public var lastLogIn: Date?
        public var lockedUntil: Date?
    }

    /// Adds an account (the password is hashed in the database with bcrypt); its id.
    public static func add(_ connection: PostgresConnection, login: String, power: String, password: String,
                           staffCode: String?) async throws -> Int64 {
        try await connection.query("SELECT bank.console_account_add($1, $2, $3, $4) AS id", [login, power, password, staffCode])[0].decode("id")
    }

    /// Disables an account and ends its sessions; false when no active account has that login.
    public static func disable(_ connection: PostgresConnection, login: String) async throws -> Bool {
        try await connection.query("SELECT bank.console_account_disable($1) AS done", [login])[0].decode("done")
    }

    public static func list(_ connection: PostgresConnection) async throws -> [Account] {
        try await connection.query("""
            SELECT a.login, a.power, a.staff_code, a.active, a.created_at, a.locked_until,
                   (SELECT max(c.at) FROM bank.console_action c WHERE c.account_id = a.id AND c.action = 'log_in' AND c.outcome = 'done') AS last_log_in
              FROM bank.console_account a ORDER BY a.login
            """).map {
            Account(login: try $0.decode("login"), power: try $0.decode("power"), staffCode: try $0.decode("staff_code"),
                    active: try $0.decode("active"), createdAt: try $0.decode("created_at"), lastLogIn: try $0.decode("last_log_in"),
                    lockedUntil: try $0.decode("locked_until"))
        }
    }
}
