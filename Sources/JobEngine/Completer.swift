import Foundation
import Logging
import PostgresClient

/// Records attempts' ends in batches: while one batch is being written,
/// the next accumulates, so a busy worker pays one round trip for many
/// completions. A write that fails (database restarting) is retried with
/// the same results: they only apply to rows the worker still holds.
///
/// Most results do not need a statement of their own: a producer about to
/// claim takes what waits (``takeForClaim()``) and records it in its claim's
/// statement (issue 18, item 2), so a busy worker pays one commit for its
/// claim and the results that freed the slots. A result waits up to
/// `linger` for such a claim (River's completer ticks likewise) before this
/// completer writes it itself.
///
/// Bounded as River's `BatchCompleter` is: one statement writes at most
/// `maxBatch` results (a statement's arrays stay small however far behind
/// the writer is), and once `maxBacklog` results wait, `submit` waits for
/// room, so a worker whose database is slow or away stops finishing (and
/// so claiming) jobs instead of piling up results in memory.
actor Completer {
    static let defaultMaxBatch = 1000
    static let defaultMaxBacklog = 10_000
    static let defaultLinger = Duration.milliseconds(20)

    private let connection: PostgresConnection
    private let worker: String
    private let logger: Logger
    let maxBatch: Int
    let maxBacklog: Int
    let linger: Duration
    private var pending: [AttemptResult] = []
    private var writer: CheckedContinuation<Void, Never>?
    /// Submitters waiting for the backlog to shrink below `maxBacklog`.
    private var waitingForRoom: [CheckedContinuation<Void, Never>] = []
    private var finishing = false

    init(connection: PostgresConnection, worker: String, logger: Logger,
         maxBatch: Int = defaultMaxBatch, maxBacklog: Int = defaultMaxBacklog, linger: Duration = defaultLinger) {
        self.connection = connection
        self.worker = worker
        self.logger = logger
        self.maxBatch = max(1, maxBatch)
        self.maxBacklog = max(1, maxBacklog)
        self.linger = linger
    }

    /// Jobs whose results are not written yet: still held, leases renewed.
    /// Counted per job: a job rescued from under this worker and run again
    /// by it may have two attempts' results here at once.
    private var unwrittenCounts: [Int64: Int] = [:]
    var unwritten: Set<Int64> { Set(unwrittenCounts.keys) }

    /// Results waiting to be written.
    var backlog: Int { pending.count }

    /// Queues a result; waits first while the backlog is full, unless
    /// `waitForRoom` is false (jobs handed back at shutdown must not wait
    /// for a database that may not come back).
    func submit(_ result: AttemptResult, waitForRoom: Bool = true) async {
        while waitForRoom, pending.count >= maxBacklog, !finishing {
            await withCheckedContinuation { waitingForRoom.append($0) }
        }
        unwrittenCounts[result.jobID, default: 0] += 1
        pending.append(result)
        writer?.resume()
        writer = nil
    }

    /// Hands what waits to be written to a producer about to claim, which
    /// records it in its claim's statement and then says how that went
    /// (``recordedByClaim(_:)`` or ``claimFailed(_:)``). Until then the
    /// results stay unwritten: their jobs' leases are still renewed.
    func takeForClaim() -> [AttemptResult] {
        let batch = Array(pending.prefix(maxBatch))
        pending.removeFirst(batch.count)
        return batch
    }

    /// A claim's statement recorded these.
    func recordedByClaim(_ batch: [AttemptResult]) {
        markWritten(batch)
    }

    /// A claim's statement failed: these wait again, first in line.
    func claimFailed(_ batch: [AttemptResult]) {
        guard !batch.isEmpty else { return }
        pending.insert(contentsOf: batch, at: 0)
        writer?.resume()
        writer = nil
    }

    /// Ends `run()` once everything submitted is written.
    func finish() {
        finishing = true
        writer?.resume()
        writer = nil
        resumeWaitingForRoom()
    }

    func run() async {
        var failures = 0
        while true {
            if pending.isEmpty {
                if finishing { return }
                await withCheckedContinuation { writer = $0 }
                continue
            }
            // A producer's claim may carry them meanwhile; a full batch or a shutdown does not wait.
            if !finishing && pending.count < maxBatch && linger > .zero {
                try? await Task.sleep(for: linger)
                if pending.isEmpty { continue }
            }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                try await JobStore.record(connection, batch, worker: worker)
                markWritten(batch)
                if failures > 0 { logger.info("recording job results again") }
                failures = 0
            } catch {
                pending.insert(contentsOf: batch, at: 0)
                if failures == 0 { logger.warning("cannot record job results; retrying", metadata: ["error": "\(error)"]) }
                failures += 1
                try? await Task.sleep(for: .milliseconds(min(50 << min(failures, 6), 2000)))
            }
        }
    }

    private func markWritten(_ batch: [AttemptResult]) {
        for result in batch {
            let left = unwrittenCounts[result.jobID, default: 1] - 1
            unwrittenCounts[result.jobID] = left > 0 ? left : nil
        }
        if pending.count < maxBacklog { resumeWaitingForRoom() }
    }

    private func resumeWaitingForRoom() {
        // Each re-checks the room when it runs again.
        let waiters = waitingForRoom
        waitingForRoom.removeAll()
        for waiter in waiters { waiter.resume() }
    }
}
