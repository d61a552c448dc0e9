import Foundation
import PostgresClient
import TestSupport
import Testing

/// LISTEN/NOTIFY on the connection's socket: delivery, timeouts,
/// reconnection that re-listens and says notifications may be lost.
@Suite struct NotificationTests {
    @Test func deliversNotificationsFromAnotherSession() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            try await listener.listen("jobs_settlement")
            try await sender.notify("jobs_settlement", payload: "42")
            let event = try await listener.nextNotification(timeout: .seconds(10))
            guard case .notification(let notification) = event else {
                Issue.record("expected a notification, got \(String(describing: event))")
                return
            }
            #expect(notification.channel == "jobs_settlement")
            #expect(notification.payload == "42")
            #expect(notification.senderPID == (await sender.backendPID))
        }
    }

    @Test func notificationsWaitForTheCommit() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            try await listener.listen("c")
            try await sender.executeScript("BEGIN")
            try await sender.notify("c", payload: "in transaction")
            #expect(try await listener.nextNotification(timeout: .milliseconds(200)) == nil)
            try await sender.executeScript("ROLLBACK")
            #expect(try await listener.nextNotification(timeout: .milliseconds(200)) == nil)
            try await sender.transaction { try $0.notify("c", payload: "committed") }
            let event = try await listener.nextNotification(timeout: .seconds(10))
            #expect(event.map { if case .notification(let n) = $0 { n.payload } else { "" } } == "committed")
        }
    }

    @Test func timesOutWithNil() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            try await listener.listen("quiet")
            let started = ContinuousClock.now
            let event = try await listener.nextNotification(timeout: .milliseconds(300))
            #expect(event == nil)
            // It waited (no early return) and then returned (no hang).
            #expect(started.duration(to: .now) >= .milliseconds(290))
        }
    }

    @Test func channelNamesAreQuoted() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            let channel = "Odd \"name\"; DROP TABLE x; --"
            try await listener.listen(channel)
            try await sender.notify(channel, payload: "ok")
            let event = try await listener.nextNotification(timeout: .seconds(10))
            #expect(event == .notification(PostgresNotification(channel: channel, payload: "ok", senderPID: await sender.backendPID)))
        }
    }

    @Test func reconnectsRelistensAndReportsPossibleLoss() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            try await listener.listen("settle")
            let oldPID = await listener.backendPID
            try await sender.query("SELECT pg_terminate_backend($1)", [oldPID])
            // The wait notices the loss, reconnects, and says so.
            let event = try await listener.nextNotification(timeout: .seconds(20))
            #expect(event == .reconnected)
            #expect(await listener.backendPID != oldPID)
            // And it listens again on the new session.
            try await sender.notify("settle", payload: "after")
            let next = try await listener.nextNotification(timeout: .seconds(10))
            #expect(next.map { if case .notification(let n) = $0 { n.payload } else { "" } } == "after")
        }
    }

    @Test func cancellationEndsTheWait() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let listener = try await database.connect()
            try await listener.listen("never")
            let waiting = Task { try await listener.nextNotification(timeout: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let error = await #expect(throws: PostgresError.self) { try await waiting.value }
            #expect(error?.kind == .cancelled)
            // The connection still works afterwards.
            #expect(try await listener.query("SELECT 1 AS one").count == 1)
        }
    }
}
