import Foundation
import JobEngine
import PostgresClient
import TestSupport
import TimebankOperations
import Testing

/// `timebank top`'s frame, rendered without a terminal.
@Suite struct TopViewTests {
    let at = Date(timeIntervalSince1970: 1_795_492_800)  // 2026-11-24 04:00:00 UTC

    @Test func aFrameShowsQueuesAndWorkersWithinEightyColumns() {
        let before = TopSnapshot(takenAt: at, queues: [], workers: [
            .init(id: "settlement-worker@db-host-with-a-long-name:4242:abc123", state: "live", jobsDone: 1000, jobsFailed: 0, heartbeatAgeSeconds: 1),
        ])
        let now = TopSnapshot(takenAt: at.addingTimeInterval(2), queues: [
            .init(name: "settlement", waiting: 1200, running: 200, completedPerSecond: 4100, failedPerSecond: 0, oldestWaitingSeconds: 1.25),
            .init(name: "notifications", paused: true, waiting: 3, running: 0, completedPerSecond: 0, failedPerSecond: 0.4, oldestWaitingSeconds: nil),
        ], workers: [
            .init(id: "settlement-worker@db-host-with-a-long-name:4242:abc123", state: "live", jobsDone: 9200, jobsFailed: 2, heartbeatAgeSeconds: 0.5),
            .init(id: "order-worker@h:7:x", state: "gone", jobsDone: 5, jobsFailed: 0, heartbeatAgeSeconds: 300),
        ])
        let lines = TopView().render(now, previous: before)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines)")
        #expect(lines[0].hasPrefix("timebank top  2026-11-24 04:00:02 UTC") && lines[0].hasSuffix("q: quit"))
        let settlement = lines.first { $0.hasPrefix("settlement ") }
        #expect(settlement?.split(separator: " ") == ["settlement", "1200", "200", "4100.0", "0.0", "1.2", "s"])
        #expect(lines.contains { $0.hasPrefix("notifications (paused)") && $0.hasSuffix("-") })
        // (9200 - 1000) jobs in 2 s; the long id cut to its column.
        let worker = lines.first { $0.hasPrefix("settlement-worker@") }
        #expect(worker?.contains("live") == true && worker?.contains("4100.0") == true && worker?.contains("…") == true)
        #expect(lines.contains { $0.hasPrefix("order-worker@h:7:x") && $0.contains("gone") && $0.hasSuffix("5 min") })
    }

    @Test func aFrameFromAKnownDatabaseState() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await connection.executeScript("""
                INSERT INTO jobs.job (kind, queue, state, run_at) SELECT 'noop', 'mail', 'available', now() - interval '90 seconds' FROM generate_series(1, 7);
                INSERT INTO jobs.job (kind, queue, state, attempt, finalized_at) SELECT 'noop', 'mail', 'completed', 1, now() FROM generate_series(1, 10);
                INSERT INTO jobs.worker_instance (id, kind, host, pid, version, queues, concurrency, jobs_done)
                VALUES ('mail-worker@h:1:a', 'mail-worker', 'h', 1, 'dev', '{mail}', 4, 10);
                """)
            let lines = TopView().render(try await TopSnapshot.take(connection, window: .seconds(5)))
            let mail = try #require(lines.first { $0.hasPrefix("mail ") })
            #expect(mail.split(separator: " ").prefix(4) == ["mail", "7", "0", "2.0"], "\(mail)")  // 10 completed in the 5 s window
            #expect(mail.contains("90.") || mail.contains("91."), "\(mail)")
            #expect(lines.contains { $0.hasPrefix("mail-worker@h:1:a") && $0.contains("live") })
            await connection.close()
        }
    }
}
