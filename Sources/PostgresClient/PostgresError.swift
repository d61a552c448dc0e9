/// An error from the PostgreSQL layer.
///
/// Callers branch on ``kind`` (could not connect, lost the connection, the
/// server refused a statement, a value did not fit) and, for server errors,
/// on the SQLSTATE ``code``: ``Code/uniqueViolation``,
/// ``Code/serializationFailure``, ``Code/deadlockDetected`` and friends.
///
/// Messages never contain a password: connection errors are built from
/// libpq's message with any password of the settings removed, and
/// settings are only ever shown through ``ConnectionSettings/redacted``.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be opened.
        case connect(ConnectFailure)
        /// The connection broke during or before a call: the outcome of a
        /// statement in flight is unknown.
        case connectionLost
        /// The server refused a statement; see ``code``.
        case server
        /// A result value could not be decoded as the Swift type asked for.
        case decoding
        /// A Swift value could not be bound as a parameter.
        case encoding
        /// The layer was used in a way it does not support.
        case usage
        /// A wait for notifications ended early because it was cancelled.
        case cancelled
    }

    /// Why a connection could not be opened, as far as libpq tells.
    public enum ConnectFailure: String, Sendable {
        case hostUnreachable = "host unreachable"
        case authentication = "authentication failed"
        case databaseMissing = "database does not exist"
        case roleMissing = "role does not exist"
        case other = "connection failed"
    }

    /// A SQLSTATE code (Appendix A of the PostgreSQL manual).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The two-character class ("23" integrity constraint, "40" transaction rollback, "08" connection).
        public var errorClass: Substring { rawValue.prefix(2) }

        public static let uniqueViolation = Code("23505")
        public static let checkViolation = Code("23514")
        public static let restrictViolation = Code("23001")
        public static let notNullViolation = Code("23502")
        public static let foreignKeyViolation = Code("23503")
        public static let exclusionViolation = Code("23P01")
        public static let serializationFailure = Code("40001")
        public static let deadlockDetected = Code("40P01")
        public static let raiseException = Code("P0001")
        public static let insufficientPrivilege = Code("42501")
        public static let undefinedTable = Code("42P01")
        public static let invalidTextRepresentation = Code("22P02")
        public static let queryCanceled = Code("57014")
        public static let adminShutdown = Code("57P01")
        public static let crashShutdown = Code("57P02")
        public static let cannotConnectNow = Code("57P03")
        public static let invalidSQLStatementName = Code("26000")
        public static let featureNotSupported = Code("0A000")
        public static let lockNotAvailable = Code("55P03")
        public static let duplicateDatabase = Code("42P04")
        public static let objectInUse = Code("55006")
    }

    public var kind: Kind
    /// The server's SQLSTATE, for ``Kind/server`` errors (and for lost
    /// connections when the server said why, e.g. `57P01` after
    /// `pg_terminate_backend`).
    public var code: Code?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The constraint a violation names, when the server says.
    public var constraint: String?

    public init(
        _ kind: Kind, code: Code? = nil, message: String,
        detail: String? = nil, hint: String? = nil, constraint: String? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    public var description: String {
        var text: String
        switch kind {
        case .connect(let failure): text = "cannot connect to PostgreSQL (\(failure.rawValue)): \(message)"
        case .connectionLost: text = "lost the connection to PostgreSQL: \(message)"
        case .server: text = "PostgreSQL error \(code?.rawValue ?? "?????"): \(message)"
        case .decoding: text = "cannot decode result: \(message)"
        case .encoding: text = "cannot bind parameter: \(message)"
        case .usage: text = "PostgreSQL layer misuse: \(message)"
        case .cancelled: text = "cancelled: \(message)"
        }
        if let detail { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }

    /// True for the errors after which retrying the whole transaction is the
    /// documented remedy: serialization failures and deadlocks.
    public var isTransientConflict: Bool {
        code == .serializationFailure || code == .deadlockDetected
    }

    /// True for a lock not granted in time (`lock_timeout`) or a deadlock:
    /// the transaction was rolled back and may be tried again as a whole.
    public var isLockConflict: Bool {
        code == .lockNotAvailable || code == .deadlockDetected
    }

    /// SQLSTATE codes with which the server tells a client it is going away.
    static let connectionEndingCodes: Set<Code> = [.adminShutdown, .crashShutdown, .cannotConnectNow]

    /// A failure to connect that waiting can cure: the server is not
    /// reachable (not up yet, restarting, failing over) or not yet accepting
    /// connections. Not a wrong password, nor a missing database or role.
    public var isTransientConnectFailure: Bool {
        switch kind {
        case .connect(.hostUnreachable): return true
        case .connect(.other):
            return ["starting up", "shutting down", "in recovery", "not accepting connections", "too many clients",
                    "too many connections", "server closed the connection"]
                .contains { message.contains($0) }
        case .server: return code.map(Self.connectionEndingCodes.contains) == true
        default: return false
        }
    }
}
