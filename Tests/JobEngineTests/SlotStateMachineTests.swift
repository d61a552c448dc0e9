import Foundation
@testable import JobEngine
import Logging
import Testing

/// The producer's slot and prefetch accounting, and the one classification
/// of outcomes, without a database: values in, actions out.
@Suite struct SlotStateMachineTests {
    private func jobs(_ ids: ClosedRange<Int64>, kind: String = "single") -> [ClaimedJob] {
        ids.map { ClaimedJob(id: $0, kind: kind, queue: "default") }
    }
    private let batchKinds: (String) -> Bool = { $0 == "batch" }

    @Test func claimsOnlyWhenHalfTheRoomIsFreeAndAtMostABatch() {
        var slots = SlotStateMachine(concurrency: 10, prefetch: 0, claimBatch: 4)
        #expect(slots.claimThreshold == 4)
        #expect(slots.nextClaim() == .claim(limit: 4))
        _ = slots.claimed(jobs(1...4), isBatchKind: batchKinds)
        _ = slots.claimed(jobs(5...8), isBatchKind: batchKinds)
        #expect(slots.nextClaim() == .wait)  // two free: not worth a round trip
        let three = slots.finished(1, isBatchKind: batchKinds)
        let four = slots.finished(1, isBatchKind: batchKinds)
        let five = slots.finished(1, isBatchKind: batchKinds)
        #expect(three.wakeProducer == false)
        #expect(four.wakeProducer)  // four free: the line is crossed
        #expect(five.wakeProducer == false)  // once, not per slot
        #expect(slots.nextClaim() == .claim(limit: 4))
    }

    @Test func jobsBeyondTheSlotsWaitAndStartInOrderAsSlotsFree() {
        var slots = SlotStateMachine(concurrency: 2, prefetch: 3, claimBatch: 5)
        #expect(slots.nextClaim() == .claim(limit: 5))
        let start = slots.claimed(jobs(1...5), isBatchKind: batchKinds)
        #expect(start.jobs.map(\.id) == [1, 2])
        #expect(slots.waiting.map(\.id) == [3, 4, 5])
        #expect(slots.held == 5)
        let after = slots.finished(1, isBatchKind: batchKinds)
        #expect(after.start.jobs.map(\.id) == [3])
        #expect(slots.running == 2 && slots.waiting.map(\.id) == [4, 5])
    }

    @Test func aBatchKindsJobsThatFitStartTogetherOneBatchPerKind() {
        var slots = SlotStateMachine(concurrency: 4, prefetch: 2, claimBatch: 6)
        let claimed = [ClaimedJob(id: 1, kind: "batch", queue: "q"), ClaimedJob(id: 2, kind: "single", queue: "q"),
                       ClaimedJob(id: 3, kind: "batch", queue: "q"), ClaimedJob(id: 4, kind: "other", queue: "q"),
                       ClaimedJob(id: 5, kind: "batch", queue: "q")]
        let start = slots.claimed(claimed, isBatchKind: { $0 == "batch" || $0 == "other" })
        #expect(start.jobs.map(\.id) == [2])
        #expect(start.batches.map { $0.map(\.id) } == [[1, 3], [4]])
        #expect(slots.waiting.map(\.id) == [5])  // the fifth found no slot
        #expect(slots.running == 4)
        let after = slots.finished(2, isBatchKind: { $0 == "batch" })
        #expect(after.start.batches.map { $0.map(\.id) } == [[5]])
    }

    @Test func shutdownStopsClaimsReleasesJobsClaimedAheadAndSaysWhenDrained() {
        var slots = SlotStateMachine(concurrency: 1, prefetch: 2, claimBatch: 3)
        _ = slots.claimed(jobs(1...3), isBatchKind: batchKinds)
        let first = slots.beginShutdown(), second = slots.beginShutdown()
        #expect(first && !second)  // woken once
        #expect(slots.nextClaim() == .stop)
        let (release, done) = slots.drain()
        #expect(release.map(\.id) == [2, 3] && !done)
        let after = slots.finished(1, isBatchKind: batchKinds)
        #expect(after.drained && after.start.isEmpty)
    }

    @Test func aSlotFreedWhileStoppingStartsNothingClaimedAhead() {
        var slots = SlotStateMachine(concurrency: 1, prefetch: 1, claimBatch: 2)
        _ = slots.claimed(jobs(1...2), isBatchKind: batchKinds)
        _ = slots.beginShutdown()
        let after = slots.finished(1, isBatchKind: batchKinds)
        #expect(after.start.isEmpty && !after.drained)  // not draining yet: the loop has not ended
        let drain = slots.drain()
        #expect(drain.release.map(\.id) == [2] && drain.done)
    }

    @Test func oneClassificationForEveryOutcome() {
        let job = ClaimedJob(id: 7, kind: "k", queue: "q", attempt: 2, maxAttempts: 3)
        let now = Date(timeIntervalSince1970: 1000)
        let backoff = Backoff(base: .seconds(10), maximum: .seconds(10), jitter: 0)
        func classify(_ outcome: Result<JobOutcome, any Error>, cancelled: Bool = false, job: ClaimedJob = job) -> AttemptResult {
            Executor.classify(job, outcome, backoff: backoff, cancelled: cancelled, now: now, logger: Logger(label: "test"))
        }
        struct Boom: Error {}
        #expect(classify(.success(.completed)).kind == .completed)
        #expect(classify(.success(.snooze(.seconds(5)))) == AttemptResult(jobID: 7, attempt: 2, kind: .snoozed, runAt: now + 5, message: nil))
        #expect(classify(.success(.cancel(reason: "no"))).message == "cancelled: no")
        #expect(classify(.failure(Boom())) == AttemptResult(jobID: 7, attempt: 2, kind: .failed, runAt: now + 10, message: "Boom()"))
        #expect(classify(.failure(Boom()), job: ClaimedJob(id: 7, kind: "k", queue: "q", attempt: 3, maxAttempts: 3)).kind == .discarded)
        #expect(classify(.failure(JobFailure.unknownKind("k"))).kind == .discarded)
        #expect(classify(.failure(Boom()), cancelled: true).kind == .released)
        #expect(classify(.failure(JobFailure.unknownKind("k")), cancelled: true).kind == .discarded, "a kind no handler serves is not the shutdown's doing")
    }
}

/// When periodic jobs run, computed without a database.
@Suite struct PeriodicScheduleTests {
    @Test func anIntervalRunsAtItsMultiplesSinceTheEpoch() throws {
        let runs = try #require(PeriodicSchedule.every(.seconds(60)).runs(around: Date(timeIntervalSince1970: 125)))
        #expect(runs.last == Date(timeIntervalSince1970: 120) && runs.next == Date(timeIntervalSince1970: 180))
        let onTheDot = try #require(PeriodicSchedule.every(.seconds(60)).runs(around: Date(timeIntervalSince1970: 180)))
        #expect(onTheDot.last == Date(timeIntervalSince1970: 180))
        #expect(PeriodicSchedule.everySeconds(sql: "300").runs(around: Date()) == nil)
    }

    @Test func aDailyRunIsAtItsHourInItsTimeZone() throws {
        let beijing = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let schedule = PeriodicSchedule.daily(hour: 1, minute: 0, timeZone: beijing)
        // 2026-03-10 00:30 in Beijing (16:30 UTC the day before): the last run was on the 9th.
        let early = try #require(schedule.runs(around: try Date("2026-03-09T16:30:00Z", strategy: .iso8601)))
        #expect(early.last == (try Date("2026-03-08T17:00:00Z", strategy: .iso8601)))
        #expect(early.next == (try Date("2026-03-09T17:00:00Z", strategy: .iso8601)))
        let late = try #require(schedule.runs(around: try Date("2026-03-10T03:00:00Z", strategy: .iso8601)))
        #expect(late.last == (try Date("2026-03-09T17:00:00Z", strategy: .iso8601)))
    }

    @Test func theDefaultKeyNamesTheRunsTime() {
        let job = PeriodicJob(kind: "k", queue: "q", schedule: .every(.seconds(60)))
        #expect(job.key(Date(timeIntervalSince1970: 120)) == "periodic:1970-01-01T00:02:00Z")
    }
}
