import CLibPQ
import Foundation

/// A NOTIFY received on a channel this session listens on.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The notifying session's server process.
    public var senderPID: Int32

    public init(channel: String, payload: String, senderPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.senderPID = senderPID
    }
}

/// What a wait for notifications ends with.
public enum NotificationEvent: Sendable, Equatable {
    case notification(PostgresNotification)
    /// The connection was lost and is open again, listening on the same
    /// channels; notifications sent meanwhile may have been missed, so a
    /// listener should look at the tables it watches.
    case reconnected
}

extension PostgresConnection {
    /// Starts listening on `channel` (any name: it is quoted with
    /// `PQescapeIdentifier`). The LISTEN is re-issued after a reconnect.
    public func listen(_ channel: String) throws {
        try executeScript("LISTEN " + escapeIdentifier(channel))
        channels.insert(channel)
    }

    public func unlisten(_ channel: String) throws {
        try executeScript("UNLISTEN " + escapeIdentifier(channel))
        channels.remove(channel)
    }

    /// `pg_notify(channel, payload)`; delivered when the surrounding
    /// transaction commits (at once outside a transaction).
    public func notify(_ channel: String, payload: String = "") throws {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Waits on the connection's socket (`poll`, no busy loop) for the next
    /// notification, for at most `timeout`. Returns nil on timeout.
    ///
    /// If the connection is lost, it reconnects with backoff within the
    /// same timeout and returns ``NotificationEvent/reconnected``; if it
    /// cannot within the timeout, it throws a connection error and the next
    /// call tries again. Task cancellation ends the wait at once with a
    /// ``PostgresError/Kind-swift.enum/cancelled`` error.
    public func nextNotification(timeout: Duration) async throws -> NotificationEvent? {
        let wakeFD = self.wakeWriteFD
        return try await withTaskCancellationHandler {
            try waitForNotification(until: ContinuousClock.now.advanced(by: timeout))
        } onCancel: {
            Self.signal(wakeFD)
        }
    }

    /// Ends a wait in progress (or the next one) early; it returns nil.
    public nonisolated func wakeUp() {
        Self.signal(wakeWriteFD)
    }

    private static func signal(_ fd: Int32) {
        var one: UInt8 = 1
        _ = write(fd, &one, 1)
    }

    private func waitForNotification(until deadline: ContinuousClock.Instant) throws -> NotificationEvent? {
        var backoff = Duration.milliseconds(50)
        var reportedLoss = false
        while true {
            if Task.isCancelled { throw PostgresError(.cancelled, message: "wait for notifications cancelled") }
            if missedNotifications {
                missedNotifications = false
                return .reconnected
            }
            guard let conn, PQstatus(conn) == CONNECTION_OK else {
                // Broken: reconnect with backoff until the deadline.
                if !reportedLoss {
                    logger.warning("connection to PostgreSQL lost while listening; reconnecting")
                    reportedLoss = true
                }
                do {
                    try reconnect()
                    continue
                } catch let error as PostgresError {
                    if error.kind == .usage { throw error }
                    let now = ContinuousClock.now
                    if now >= deadline { throw error }
                    let pause = min(backoff, now.duration(to: deadline))
                    if try sleepUnlessWoken(pause) { return nil }
                    backoff = min(backoff * 2, .seconds(2))
                    continue
                }
            }
            if let notification = takeNotification(conn) { return .notification(notification) }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return nil }
            var fds = [
                pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, Self.milliseconds(remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(.connectionLost, message: "poll failed: errno \(errno)")
            }
            if fds[1].revents != 0 {
                drainWakeFD()
                if Task.isCancelled { throw PostgresError(.cancelled, message: "wait for notifications cancelled") }
                return nil
            }
            if fds[0].revents != 0 {
                // Reads what arrived; a closed socket leaves the status BAD,
                // which the top of the loop turns into a reconnect.
                if PQconsumeInput(conn) == 0 {
                    logger.debug("PQconsumeInput failed: \(String(cString: PQerrorMessage(conn)))")
                    PQfinish(conn)
                    self.conn = nil
                }
            }
        }
    }

    private func takeNotification(_ conn: OpaquePointer) -> PostgresNotification? {
        guard let notify = PQnotifies(conn) else { return nil }
        defer { PQfreemem(notify) }
        return PostgresNotification(
            channel: String(cString: notify.pointee.relname),
            payload: String(cString: notify.pointee.extra),
            senderPID: notify.pointee.be_pid
        )
    }

    /// Sleeps on the wake-up descriptor; true if woken.
    private func sleepUnlessWoken(_ duration: Duration) throws -> Bool {
        var fd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fd, 1, Self.milliseconds(duration))
        if ready > 0 {
            drainWakeFD()
            if Task.isCancelled { throw PostgresError(.cancelled, message: "wait for notifications cancelled") }
            return true
        }
        return false
    }

    private func drainWakeFD() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeFD, &buffer, buffer.count) > 0 {}
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms))
    }
}
