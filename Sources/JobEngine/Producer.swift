import Foundation
import Logging
import PostgresClient

/// One queue's producer: claims its jobs (woken by NOTIFY, polling as a
/// fallback), starts them on the ``Executor`` as the ``SlotStateMachine``
/// says, and hands their results to the ``Completer``. At shutdown it stops
/// claiming, gives back the jobs claimed ahead, and waits for the running
/// ones within the grace, then cancels them.
actor Producer {
    let queue: String
    private let connection: PostgresConnection
    private let worker: String
    private let configuration: WorkerConfiguration
    private let executor: Executor
    private let completer: Completer
    private let tally: WorkerTally
    private let logger: Logger
    /// Called when the producer's task is cancelled: the whole worker stops as on SIGTERM.
    private let onCancelled: @Sendable () async -> Void
    private var slots: SlotStateMachine
    /// The running jobs' tasks, by job and attempt: a job rescued from under
    /// this worker and claimed by it again runs twice at once for a while,
    /// and the first run's end must not forget the second.
    private var tasks: [Attempt: Task<Void, Never>] = [:]
    private struct Attempt: Hashable { var id: Int64; var attempt: Int }
    private var drained: CheckedContinuation<Void, Never>?
    /// This producer's own channel, for the liveness probe (``ListenLiveness``).
    private let livenessChannel = "timebank_liveness_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

    init(queue: String, connection: PostgresConnection, worker: String, configuration: WorkerConfiguration, executor: Executor,
         completer: Completer, tally: WorkerTally, logger: Logger, onCancelled: @escaping @Sendable () async -> Void) {
        self.queue = queue
        self.connection = connection
        self.worker = worker
        self.configuration = configuration
        self.executor = executor
        self.completer = completer
        self.tally = tally
        self.logger = logger
        self.onCancelled = onCancelled
        self.slots = SlotStateMachine(
            concurrency: configuration.concurrency, prefetch: configuration.prefetch, claimBatch: configuration.claimBatch)
    }

    /// Stops claiming and wakes the claim loop. Returns the jobs running.
    @discardableResult
    func beginShutdown() -> Int {
        if slots.beginShutdown() { connection.wakeUp() }
        return tasks.count
    }

    /// The jobs this producer knows it holds: running, or claimed ahead.
    var heldJobs: [Int64] { Array(Set(tasks.keys.map(\.id))) + slots.waiting.map(\.id) }

    /// Claims until shutdown, then drains.
    func run() async {
        await claimUntilStopped()
        await drain()
    }

    /// After the worker is done: not idle any more, disconnected.
    func close() async {
        _ = try? await JobStore.setIdle(connection, queue: queue, worker: worker, idle: false)
        await connection.close()
    }

    private func claimUntilStopped() async {
        var idle = false
        var listening = false
        var failures = 0
        var liveness = ListenLiveness(interval: max(configuration.pollInterval * 10, .seconds(5)), patience: .seconds(5))
        while true {
            do {
                // Once listening, the connection re-listens by itself after a reconnect.
                if !listening && configuration.listens {
                    try await connection.listen("jobs_" + queue)
                    try await connection.listen(livenessChannel)
                    listening = true
                }
                switch slots.nextClaim() {
                case .stop:
                    return
                case .claim(let wanted):
                    let jobs = try await claimRecording(wanted)
                    start(slots.claimed(jobs, isBatchKind: executor.isBatchKind))
                    let queueLooksEmpty = jobs.count < wanted
                    // Poll only: no one to notify, so no idle registration (issue 16, item 5).
                    if configuration.listens && queueLooksEmpty != idle {
                        try await JobStore.setIdle(connection, queue: queue, worker: worker, idle: queueLooksEmpty)
                        idle = queueLooksEmpty
                        // A job enqueued between the claim and the flag sent
                        // no NOTIFY: claim once more before waiting.
                        if idle { continue }
                    }
                    // Busy: its claims answer, and what it waits for it does not need; the probe starts again when it waits.
                    if !queueLooksEmpty { failures = 0; liveness.reset(); continue }
                case .wait:
                    break
                }
                failures = 0
                // About to wait on the listening connection: is it still delivering?
                if listening {
                    switch liveness.due(at: .now, idle: idle) {
                    case .none: break
                    case .probe:
                        try await connection.notify(livenessChannel)
                        liveness.sent(at: .now)
                    case .reconnect:
                        logger.warning("the listening connection returned no notification in time; replacing it",
                                       metadata: ["queue": "\(queue)"])
                        try await connection.reconnect()
                        liveness.reset()
                        idle = false
                        continue
                    }
                }
                // Wait for a NOTIFY, a freed slot (wakeUp), or the poll interval.
                let event = try await connection.nextNotification(timeout: configuration.pollInterval)
                if case .notification(let notification) = event, notification.channel == livenessChannel {
                    liveness.answered(at: .now)
                    continue
                }
                if event == nil && idle {
                    try await JobStore.setIdle(connection, queue: queue, worker: worker, idle: true)  // refreshes last_seen
                }
                if event == .reconnected { idle = false }
            } catch {
                if slots.nextClaim() == .stop { return }
                // Cancelled (the service group is going down): stop as on SIGTERM, do not spin.
                if Task.isCancelled {
                    await onCancelled()
                    return
                }
                if failures == 0 {
                    logger.warning("cannot claim jobs; retrying", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
                failures += 1
                idle = false
                try? await Task.sleep(for: .milliseconds(min(100 << min(failures, 5), 3000)))
            }
        }
    }

    /// Claims up to `wanted` jobs, recording in the same statement the
    /// results the completer has not written yet (issue 18, item 2).
    private func claimRecording(_ wanted: Int) async throws -> [ClaimedJob] {
        let results = await completer.takeForClaim()
        do {
            let jobs = try await JobStore.recordAndClaim(
                connection, results, queue: queue, limit: wanted, worker: worker, lease: configuration.lease)
            await completer.recordedByClaim(results)
            return jobs
        } catch {
            await completer.claimFailed(results)
            throw error
        }
    }

    private func start(_ start: SlotStateMachine.Start) {
        let executor = self.executor
        for job in start.jobs {
            tasks[Attempt(id: job.id, attempt: job.attempt)] = Task {
                let result = await executor.run(job)
                await self.finished([job], completed: 0, unrecorded: [result])
            }
        }
        for batch in start.batches {
            let task = Task {
                let (completed, unrecorded) = await executor.runBatch(batch)
                await self.finished(batch, completed: completed, unrecorded: unrecorded)
            }
            for job in batch { tasks[Attempt(id: job.id, attempt: job.attempt)] = task }
        }
    }

    /// Jobs ended: `completed` of them already recorded (in a batch's own
    /// transaction), `unrecorded` for the completer. Their slots free only
    /// once the completer took the results: its back-pressure slows claims.
    private func finished(_ jobs: [ClaimedJob], completed: Int, unrecorded: [AttemptResult]) async {
        await tally.count(completed: completed, unrecorded)
        for result in unrecorded { await completer.submit(result) }
        for job in jobs { tasks[Attempt(id: job.id, attempt: job.attempt)] = nil }
        let after = slots.finished(jobs.count, isBatchKind: executor.isBatchKind)
        start(after.start)
        if after.wakeProducer { connection.wakeUp() }
        if after.drained { endDrain() }
    }

    private func drain() async {
        for job in slots.drain().release {
            await completer.submit(
                AttemptResult(jobID: job.id, attempt: job.attempt, kind: .released, runAt: Date(), message: nil), waitForRoom: false)
        }
        // Checked after those awaits, with none before the wait begins: a
        // job that ended meanwhile must not leave the drain waiting.
        guard slots.running > 0 else { return }
        let grace = configuration.shutdownGrace
        let timer = Task {
            // Cancelled when the drain ended in time: nothing to cancel then.
            do { try await Task.sleep(for: grace) } catch { return }
            self.cancelRunningJobs()
        }
        await withCheckedContinuation { drained = $0 }
        timer.cancel()
    }

    private func endDrain() {
        drained?.resume()
        drained = nil
    }

    private func cancelRunningJobs() {
        guard !tasks.isEmpty else { return endDrain() }
        logger.warning("shutdown grace over: cancelling running jobs", metadata: ["queue": "\(queue)", "count": "\(tasks.count)"])
        for task in tasks.values { task.cancel() }
        // Cancelled handlers that do not return are left behind; their
        // jobs are handed back and any late result is refused.
        endDrain()
    }
}
