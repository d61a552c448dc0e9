import Foundation
import JobEngine
import PostgresClient
import TimebankOperations

/// Everything the console asks PostgreSQL, as its own login
/// (`timebank_console`): the session functions and actions of
/// sql/functions/console/, and the reads of the CLI's own code (TopSnapshot,
/// JobAdmin, DeliveryAdmin, ClaimAdmin, SupervisionAdmin) over the views
/// that role may read. The database checks every token; this type only
/// passes them on.
public struct ConsoleStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    public struct NewSession: Sendable {
        public var token: String
        public var csrfToken: String
        public var expiresAt: Date
    }

    /// A new session for the right password; nil otherwise (the database
    /// counts the failure, locks the account after five, and records it).
    func logIn(login: String, password: String) async throws -> NewSession? {
        try await pool.withConnection { connection in
            try await connection.query("SELECT token, csrf_token, expires_at FROM bank.console_log_in($1, $2)", [login, password]).first.map {
                NewSession(token: try $0.decode("token"), csrfToken: try $0.decode("csrf_token"), expiresAt: try $0.decode("expires_at"))
            }
        }
    }

    /// Who a cookie's token logs in; nil: no live session.
    func viewer(token: String) async throws -> Viewer? {
        try await pool.withConnection { connection in
            try await connection.query("SELECT login, power, csrf_token, may_decide_alerts FROM bank.console_session($1)", [token]).first.map {
                Viewer(login: try $0.decode("login"), power: try $0.decode("power"), csrfToken: try $0.decode("csrf_token"),
                       mayDecideAlerts: try $0.decode("may_decide_alerts"))
            }
        }
    }

    func logOut(token: String, csrfToken: String) async throws -> Bool {
        try await pool.withConnection { connection in
            try await connection.query("SELECT bank.console_log_out($1, $2) AS done", [token, csrfToken])[0].decode("done")
        }
    }

    /// What an operator may do from a page, each one function of sql/functions/console/actions.sql.
    enum Action: Sendable, Equatable {
        case retryJob(Int64), cancelJob(Int64), setQueuePaused(String, Bool), retryDelivery(Int64), resendClaim(Int64)
        case dismissAlert(Int64, reason: String), confirmFraud(alert: Int64, person: Int64, reason: String, services: [Int64])

        var call: (sql: String, parameters: [any PostgresEncodable]) {
            switch self {
            case .retryJob(let id): ("bank.console_retry_job($1, $2, $3)", [id])
            case .cancelJob(let id): ("bank.console_cancel_job($1, $2, $3)", [id])
            case .setQueuePaused(let queue, let pause): ("bank.console_set_queue_paused($1, $2, $3, $4)", [queue, pause])
            case .retryDelivery(let id): ("bank.console_retry_delivery($1, $2, $3)", [id])
            case .resendClaim(let id): ("bank.console_resend_claim($1, $2, $3)", [id])
            case .dismissAlert(let id, let reason): ("bank.console_dismiss_alert($1, $2, $3, $4)", [id, reason])
            case .confirmFraud(let alert, let person, let reason, let services):
                ("bank.console_confirm_fraud($1, $2, $3, $4, $5, $6)", [alert, person, reason, services])
            }
        }
    }

    /// Done, or refused with the database's reason (no session, no power, a
    /// wrong CSRF token, or the act's own refusal); recorded either way.
    func perform(_ action: Action, token: String, csrfToken: String) async throws -> (done: Bool, message: String) {
        let call = action.call
        return try await pool.withConnection { connection in
            let row = try await connection.query("SELECT done, message FROM \(call.sql)", [token, csrfToken] + call.parameters)[0]
            return (try row.decode("done"), try row.decode("message"))
        }
    }

    func read<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}

/// The reads the console adds to the CLI's (the settlement latency and the
/// last ledger verify, which the CLI prints as they happen, and the
/// console's own record).
enum ConsoleReads {
    struct SettlementLatency: Sendable {
        var settledLastHour: Int
        var medianSeconds: Double?
        var p95Seconds: Double?
        var maxSeconds: Double?
        var waiting: Int
    }

    static func settlementLatency(_ connection: PostgresConnection) async throws -> SettlementLatency {
        let row = try await connection.query(
            "SELECT settled_last_hour, median_seconds, p95_seconds, max_seconds, waiting FROM bank.settlement_latency")[0]
        return SettlementLatency(settledLastHour: try row.decode("settled_last_hour"), medianSeconds: try row.decode("median_seconds"),
                                 p95Seconds: try row.decode("p95_seconds"), maxSeconds: try row.decode("max_seconds"),
                                 waiting: try row.decode("waiting"))
    }

    struct LedgerRun: Sendable {
        var ranAt: Date
        var verified: Bool
        var checks: [(name: String, problem: String?)]
    }

    static func lastLedgerVerify(_ connection: PostgresConnection) async throws -> LedgerRun? {
        guard let row = try await connection.query("SELECT ran_at, verified, checks::text AS checks FROM bank.ledger_verify_last").first else {
            return nil
        }
        struct Check: Decodable { var check: String; var problem: String? }
        let checks = try JSONDecoder().decode([Check].self, from: Data(try row.decode("checks", as: String.self).utf8))
        return LedgerRun(ranAt: try row.decode("ran_at"), verified: try row.decode("verified"), checks: checks.map { ($0.check, $0.problem) })
    }

    struct Act: Sendable {
        var login: String?
        var action: String
        var target: String?
        var outcome: String
        var reason: String?
        var at: Date
    }

    static func recentActs(_ connection: PostgresConnection, limit: Int = 100) async throws -> [Act] {
        try await connection.query(
            "SELECT login, action, target, outcome, reason, at FROM bank.console_recent_action ORDER BY id DESC LIMIT $1", [limit]
        ).map {
            Act(login: try $0.decode("login"), action: try $0.decode("action"), target: try $0.decode("target"),
                outcome: try $0.decode("outcome"), reason: try $0.decode("reason"), at: try $0.decode("at"))
        }
    }
}
