import Logging

/// A few connections lent one at a time: what a worker's job handlers
/// share. Connections open when first needed, up to `maximum`; a borrower
/// beyond that waits for one to come back. A connection never serves two
/// borrowers at once (libpq: never two threads on one `PGconn`), and one
/// whose server went away reconnects by itself on its next statement.
public actor ConnectionPool {
    private let settings: ConnectionSettings
    public nonisolated let maximum: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<PostgresConnection?, Never>] = []
    private var closed = false

    public init(settings: ConnectionSettings, maximum: Int, logger: Logger = Logger(label: "timebank.pool")) {
        precondition(maximum >= 1, "a pool holds at least one connection")
        self.settings = settings
        self.maximum = maximum
        self.logger = logger
    }

    /// Runs `body` with a connection of the pool, returned afterwards.
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await borrow()
        do {
            let value = try await body(connection)
            giveBack(connection)
            return value
        } catch {
            giveBack(connection)
            throw error
        }
    }

    private func borrow() async throws -> PostgresConnection {
        if closed { throw PostgresError(.usage, message: "the connection pool is closed") }
        if let connection = idle.popLast() { return connection }
        if opened < maximum {
            opened += 1
            do {
                return try await PostgresConnection.connect(settings, logger: logger)
            } catch {
                opened -= 1
                throw error
            }
        }
        guard let connection = await withCheckedContinuation({ waiters.append($0) }) else {
            throw PostgresError(.usage, message: "the connection pool is closed")
        }
        return connection
    }

    private func giveBack(_ connection: PostgresConnection) {
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: connection)
        } else if closed {
            opened -= 1
            Task { await connection.close() }
        } else {
            idle.append(connection)
        }
    }

    /// Closes the idle connections, and each lent one when it comes back.
    public func close() async {
        closed = true
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
        for connection in idle { await connection.close() }
        opened -= idle.count
        idle.removeAll()
    }
}
