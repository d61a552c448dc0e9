import CLibPQ

/// PostgreSQL's transaction isolation levels.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` in a transaction on this connection's thread: commits
    /// when it returns, rolls back when it throws.
    ///
    /// The body is synchronous on purpose: nothing else can run on the
    /// connection between BEGIN and COMMIT. A body that swallowed a server
    /// error leaves the transaction aborted; the COMMIT then rolls back,
    /// and this throws rather than pretend the work was saved.
    public func transaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: @Sendable (isolated PostgresConnection) throws -> T
    ) throws -> T {
        try executeScript("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        let commit = try executeScript("COMMIT")
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(.server, code: nil, message: "the transaction had failed, so COMMIT rolled it back")
        }
        return value
    }

    /// Rolls back whatever is open, unless the connection is gone (the
    /// server then rolls back by itself).
    private func rollbackQuietly() {
        guard let conn, PQstatus(conn) == CONNECTION_OK, PQtransactionStatus(conn) != PQTRANS_IDLE else { return }
        if let result = PQexec(conn, "ROLLBACK") { PQclear(result) }
    }

    /// True between BEGIN and COMMIT/ROLLBACK.
    public var inTransaction: Bool {
        guard let conn else { return false }
        let status = PQtransactionStatus(conn)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }
}
