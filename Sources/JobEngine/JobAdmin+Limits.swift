import Foundation
import PostgresClient

/// The limit rules of keyed jobs (`timebank jobs limits ...`): at most N of
/// one key's jobs running at once, at most R started per second, per key
/// prefix of a queue; `jobs.claim` enforces them (sql/functions/jobs/engine.sql).
extension JobAdmin {
    /// A queue's rule for the keys that start with `keyPrefix` (the longest matching prefix applies).
    public struct LimitRule: Sendable, Equatable {
        public var queue: String
        public var keyPrefix: String
        public var maxRunning: Int?
        public var perSecond: Double?
        public var burst: Int?
        public var setBy: String
        public var setAt: Date

        init(_ row: PostgresRow) throws {
            queue = try row.decode("queue")
            keyPrefix = try row.decode("key_prefix")
            maxRunning = try row.decode("max_running", as: Int?.self)
            perSecond = try row.decode("per_second", as: Double?.self)
            burst = try row.decode("burst", as: Int?.self)
            setBy = try row.decode("set_by")
            setAt = try row.decode("set_at")
        }
    }

    /// A key under a rule now: its jobs running and waiting, its bucket's tokens at its last claim.
    public struct LimitUsage: Sendable {
        public var queue: String
        public var limitKey: String
        public var keyPrefix: String
        public var running: Int
        public var waiting: Int
        public var tokens: Double?
    }

    static let ruleColumns = "queue, key_prefix, max_running, per_second, burst, set_by, set_at"

    /// Sets or replaces a rule (`jobs.limit_set`); it applies from the next claim on.
    @discardableResult
    public static func setLimit(
        _ connection: isolated PostgresConnection, queue: String, keyPrefix: String, maxRunning: Int?, perSecond: Double?, burst: Int? = nil
    ) throws -> LimitRule {
        try LimitRule(connection.query(
            "SELECT \(ruleColumns) FROM jobs.limit_set($1, $2, $3::integer, $4::float8, $5::integer)",
            [queue, keyPrefix, maxRunning, perSecond, burst])[0])
    }

    /// Removes a rule; false when there was none.
    public static func removeLimit(_ connection: isolated PostgresConnection, queue: String, keyPrefix: String) throws -> Bool {
        try connection.query("SELECT jobs.limit_remove($1, $2) AS removed", [queue, keyPrefix])[0].decode("removed", as: Bool.self)
    }

    public static func limits(_ connection: isolated PostgresConnection) throws -> [LimitRule] {
        try connection.query("SELECT \(ruleColumns) FROM jobs.limit_rule ORDER BY queue, key_prefix").map(LimitRule.init)
    }

    public static func limitUsage(_ connection: isolated PostgresConnection) throws -> [LimitUsage] {
        try connection.query("SELECT queue, limit_key, key_prefix, running, waiting, tokens FROM jobs.limit_usage ORDER BY queue, limit_key")
            .map { row in
                LimitUsage(queue: try row.decode("queue"), limitKey: try row.decode("limit_key"), keyPrefix: try row.decode("key_prefix"),
                           running: try row.decode("running"), waiting: try row.decode("waiting"),
                           tokens: try row.decode("tokens", as: Double?.self))
            }
    }
}
