import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// One PostgreSQL connection (one `PGconn`).
///
/// Threads: the connection is an actor whose executor is its own thread
/// (``ConnectionThread``). Every libpq call on the `PGconn` runs there, so
/// libpq's blocking calls never stall Swift's shared thread pool, and no two
/// threads ever touch the `PGconn`. Callers outside the actor pay one
/// thread hop per call; code that runs many statements in a row runs on
/// the actor instead (``transaction(isolation:readOnly:_:)``, or any
/// function taking an `isolated PostgresConnection`), where each call is a
/// plain synchronous call.
///
/// A connection serves one task at a time: share it through a pool, not by
/// interleaving callers (their statements would interleave in one session).
///
/// Lost connections: a statement in flight when the connection breaks
/// throws ``PostgresError/Kind-swift.enum/connectionLost`` (its outcome is
/// unknown). The next call reconnects first, re-issues the LISTENs, and
/// the next ``nextNotification(timeout:)`` reports
/// ``NotificationEvent/reconnected`` so that listeners know they may have
/// missed notifications.
public actor PostgresConnection {
    private let thread: ConnectionThread
    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }

    public nonisolated let settings: ConnectionSettings
    let logger: Logger
    /// The session; nil while broken (the next call reconnects) or closed.
    var conn: OpaquePointer?
    private var isClosed = false
    var statements = StatementCache()
    /// The channels this session listens on, re-issued after a reconnect.
    var channels: Set<String> = []
    /// Set when the session was replaced: a listener must hear of it.
    var missedNotifications = false
    /// A pipe that wakes a wait for notifications early (cancellation,
    /// ``wakeUp()``): the wait polls its read end beside the socket.
    let wakeFD: Int32
    let wakeWriteFD: Int32

    private init(settings: ConnectionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.thread = ConnectionThread(name: "pg:\(settings.applicationName)")
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { fatalError("pipe failed: errno \(errno)") }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        self.wakeFD = ends[0]
        self.wakeWriteFD = ends[1]
    }

    /// Runs `body` with this connection's thread as the task's preferred
    /// executor: the task's own code runs on that thread too, so its calls
    /// to the connection need no thread hop either way. For a task that
    /// does little but talk to its connection (a job handler, a listener).
    public nonisolated func withPreferredExecutor<T: Sendable>(
        _ body: @Sendable () async throws -> T
    ) async rethrows -> T {
        try await withTaskExecutorPreference(thread, operation: body)
    }

    /// Opens a connection. Throws ``PostgresError`` of kind
    /// ``PostgresError/Kind-swift.enum/connect(_:)`` naming what failed.
    public static func connect(
        _ settings: ConnectionSettings,
        logger: Logger = Logger(label: "timebank.postgres")
    ) async throws -> PostgresConnection {
        let connection = PostgresConnection(settings: settings, logger: logger)
        try await connection.open()
        return connection
    }

    // Runs on the connection thread, like every other libpq call.
    isolated deinit {
        if let conn { PQfinish(conn) }
        Glibc.close(wakeFD)
        Glibc.close(wakeWriteFD)
        thread.shutdown()
    }

    /// Closes the connection; later calls fail. Idempotent.
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        isClosed = true
        channels.removeAll()
    }

    public var isOpen: Bool { conn != nil && PQstatus(conn) == CONNECTION_OK }

    /// The OS thread this connection's calls run on (for tests and diagnostics).
    public var threadID: UInt { UInt(pthread_self()) }

    /// The server process serving this session (`pg_backend_pid()`).
    public var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    /// The server's version as an integer, e.g. 150018 for 15.18.
    public var serverVersion: Int { conn.map { Int(PQserverVersion($0)) } ?? 0 }

    // MARK: - Opening and reopening

    private func open() throws {
        conn = try Self.openSession(settings)
        try configureSession()
    }

    /// libpq's keepalive settings every session gets unless its conninfo names them.
    static let deadConnectionDetection: [(String, String)] = [
        ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "3"), ("keepalives_count", "3"), ("tcp_user_timeout", "15000"),
    ]

    /// One libpq connect with our keywords; the caller's conninfo is
    /// expanded from the first `dbname`, a `database` override comes after it.
    static func openSession(_ settings: ConnectionSettings) throws -> OpaquePointer {
        var keywords = ["dbname", "application_name", "client_encoding", "connect_timeout"]
        var values = [settings.conninfo, settings.applicationName, "UTF8", String(settings.connectTimeoutSeconds)]
        if let database = settings.database {
            keywords.append("dbname")
            values.append(database)
        }
        if let options = settings.optionsValue {
            keywords.append("options")
            values.append(options)
        }
        // Issue 16: a connection open but dead (a primary lost with its
        // machine, a cut network) is found within seconds, not at the
        // kernel's two-hour keepalive: TCP keepalives after 10 s idle, and
        // unacknowledged data given up after 15 s, unless the conninfo says
        // otherwise. (A listening producer also runs a statement every poll
        // interval, which tcp_user_timeout bounds.)
        for (keyword, value) in Self.deadConnectionDetection where !settings.conninfo.contains(keyword) {
            keywords.append(keyword)
            values.append(value)
        }
        let conn = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let conn else {
            throw PostgresError(.connect(.other), message: "libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let raw = PQerrorMessage(conn).map { String(cString: $0) } ?? ""
            PQfinish(conn)
            throw connectError(libpqMessage: raw, settings: settings)
        }
        // Server NOTICEs ("relation already exists, skipping") would go to
        // stderr by default; they are not errors, and callers who want them
        // can query for what they need.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        return conn
    }

    static func connectError(libpqMessage raw: String, settings: ConnectionSettings) -> PostgresError {
        var message = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: "; ")
        if let password = settings.password { message = message.replacingOccurrences(of: password, with: "****") }
        let failure: PostgresError.ConnectFailure
        if message.contains("password authentication failed") || message.contains("no pg_hba.conf entry")
            || message.contains("authentication failed") || message.contains("no password supplied")
        {
            failure = .authentication
        } else if message.contains("database \"") && message.contains("does not exist") {
            failure = .databaseMissing
        } else if message.contains("role \"") && message.contains("does not exist") {
            failure = .roleMissing
        } else if message.contains("Connection refused") || message.contains("could not connect")
            || message.contains("could not translate host name") || message.contains("No such file or directory")
            || message.contains("timeout expired") || message.contains("unreachable") || message.contains("No route to host")
        {
            failure = .hostUnreachable
        } else {
            failure = .other
        }
        return PostgresError(.connect(failure), message: message)
    }

    /// Session settings the decoders rely on, whatever the server's defaults.
    private func configureSession() throws {
        try executeScript("SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'")
    }

    /// Makes sure there is a working session, reconnecting once if the
    /// last call found the connection broken.
    func ensureSession() throws -> OpaquePointer {
        guard !isClosed else { throw PostgresError(.usage, message: "the connection was closed") }
        if let conn, PQstatus(conn) == CONNECTION_OK, !Self.closedWhileIdle(conn) { return conn }
        try reconnect()
        return conn!
    }

    /// An idle session has nothing to read but NOTIFYs; if its socket is
    /// readable, read it: a server that restarted or ended the session has
    /// closed it, and a statement sent now would be lost. One `poll` with
    /// no timeout, so a dead idle connection is replaced before use instead
    /// of failing the caller's statement.
    private static func closedWhileIdle(_ conn: OpaquePointer) -> Bool {
        guard PQtransactionStatus(conn) == PQTRANS_IDLE else { return false }
        var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        // libpq notices the end of the stream only on a read that returns
        // nothing, after reading whatever came before it (a FATAL message).
        for _ in 0..<4 {
            guard poll(&descriptor, 1, 0) > 0 else { return false }
            if PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK { return true }
        }
        return false
    }

    /// Replaces a broken session with a new one: same settings, the same
    /// LISTENs, an empty statement cache.
    public func reconnect() throws {
        guard !isClosed else { throw PostgresError(.usage, message: "the connection was closed") }
        if let conn { PQfinish(conn) }
        conn = nil
        statements.removeAll()
        conn = try Self.openSession(settings)
        try configureSession()
        for channel in channels.sorted() {
            try executeScript("LISTEN " + (try escapeIdentifier(channel)))
        }
        if !channels.isEmpty { missedNotifications = true }
        logger.info("reconnected to PostgreSQL", metadata: ["backend_pid": "\(backendPID)"])
    }

    // MARK: - Results and errors

    /// Turns a result into a ``QueryResult`` or a ``PostgresError``; clears
    /// the result when it is an error (the QueryResult clears it otherwise).
    func check(_ result: OpaquePointer?, _ conn: OpaquePointer) throws -> QueryResult {
        guard let result else {
            throw lostOrServerError(conn, result: nil)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return QueryResult(taking: result)
        default:
            defer { PQclear(result) }
            throw lostOrServerError(conn, result: result)
        }
    }

    func lostOrServerError(_ conn: OpaquePointer, result: OpaquePointer?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let code = field("C").map(PostgresError.Code.init(rawValue:))
        let primary = field("M") ?? PQerrorMessage(conn).map { String(cString: $0) }?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown error"
        if PQstatus(conn) != CONNECTION_OK || code.map({ PostgresError.connectionEndingCodes.contains($0) || $0.errorClass == "08" }) == true {
            return PostgresError(.connectionLost, code: code, message: primary.replacingOccurrences(of: "\n", with: "; "))
        }
        return PostgresError(.server, code: code, message: primary, detail: field("D"), hint: field("H"), constraint: field("n"))
    }

    func escapeIdentifier(_ name: String) throws -> String {
        let conn = try ensureSession()
        guard let escaped = PQescapeIdentifier(conn, name, name.utf8.count) else {
            throw PostgresError(.usage, message: "cannot escape identifier: \(String(cString: PQerrorMessage(conn)))")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
