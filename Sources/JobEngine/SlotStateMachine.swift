/// The slot and prefetch accounting of one queue's producer, as a value
/// that does no I/O and holds no tasks: each event returns what the
/// producer must do (the shape of PostgresNIO's `ListenStateMachine`), so
/// every rule here is tested without a database.
///
/// A queue holds at most `concurrency + prefetch` jobs: `running`, and
/// `waiting` (claimed ahead, under lease, not started).
struct SlotStateMachine: Sendable {
    enum State: Equatable, Sendable {
        /// Claiming and starting jobs.
        case running
        /// Shutting down: no claims, no starts; running jobs may finish.
        case stopping
        /// Waiting for the running jobs to end (the producer's loop is over).
        case draining
    }

    /// What the producer does next about claiming.
    enum ClaimAction: Equatable, Sendable {
        case claim(limit: Int)
        /// Too little room for a claim to be worth a round trip: wait for a
        /// NOTIFY, a freed slot, or the poll interval.
        case wait
        case stop
    }

    /// Jobs to start now: single jobs each in a task of its own, and the
    /// jobs of each batch kind together, as one batch.
    struct Start: Equatable, Sendable {
        var jobs: [ClaimedJob] = []
        var batches: [[ClaimedJob]] = []
        var isEmpty: Bool { jobs.isEmpty && batches.isEmpty }
    }

    /// What to do after jobs ended.
    struct AfterFinish: Equatable, Sendable {
        var start = Start()
        /// The room crossed the claim threshold: wake the waiting producer.
        var wakeProducer = false
        /// Draining, and nothing runs any more.
        var drained = false
    }

    let concurrency: Int
    let claimBatch: Int
    /// Jobs the queue may hold at once: running, and claimed ahead.
    let capacity: Int
    private(set) var state = State.running
    private(set) var running = 0
    private(set) var waiting: [ClaimedJob] = []

    init(concurrency: Int, prefetch: Int, claimBatch: Int) {
        self.concurrency = concurrency
        self.claimBatch = claimBatch
        self.capacity = concurrency + prefetch
    }

    var held: Int { running + waiting.count }

    /// Free room that makes a claim worth a round trip.
    var claimThreshold: Int { max(1, min(claimBatch, capacity / 2)) }

    /// Claim when half the room is free (or all is), not per freed slot:
    /// a batch per round trip, not a job.
    func nextClaim() -> ClaimAction {
        guard state == .running else { return .stop }
        let free = capacity - held
        if free >= claimThreshold || free == capacity { return .claim(limit: min(free, claimBatch)) }
        return .wait
    }

    /// Counts claimed jobs in: those that fit start, the rest wait for a
    /// slot. `isBatchKind` says which kinds run many to a transaction.
    mutating func claimed(_ jobs: [ClaimedJob], isBatchKind: (String) -> Bool) -> Start {
        var start = Start()
        var batchKinds: [String] = []
        var batches: [String: [ClaimedJob]] = [:]
        for job in jobs {
            // (Jobs claimed as a shutdown began still start, as any claimed job.)
            if running >= concurrency {
                waiting.append(job)
            } else if isBatchKind(job.kind) {
                running += 1
                if batches[job.kind] == nil { batchKinds.append(job.kind) }
                batches[job.kind, default: []].append(job)
            } else {
                running += 1
                start.jobs.append(job)
            }
        }
        start.batches = batchKinds.compactMap { batches[$0] }
        return start
    }

    /// `count` running jobs ended: start jobs claimed ahead into the freed
    /// slots, wake the producer when the free room crosses the claim
    /// threshold (once, not per freed slot), and say when a drain is over.
    mutating func finished(_ count: Int, isBatchKind: (String) -> Bool) -> AfterFinish {
        precondition(count <= running, "more jobs ended than were running")
        running -= count
        var after = AfterFinish()
        if state == .running, !waiting.isEmpty {
            let next = Array(waiting.prefix(max(concurrency - running, 0)))
            waiting.removeFirst(next.count)
            after.start = claimed(next, isBatchKind: isBatchKind)
        }
        let free = capacity - held
        after.wakeProducer = free >= claimThreshold && free - count < claimThreshold
        after.drained = state == .draining && running == 0
        return after
    }

    /// Stops claiming. True the first time: the producer must be woken.
    mutating func beginShutdown() -> Bool {
        guard state == .running else { return false }
        state = .stopping
        return true
    }

    /// The producer's loop is over: the jobs claimed ahead go back at once,
    /// unspent, and `done` says whether anything still runs.
    mutating func drain() -> (release: [ClaimedJob], done: Bool) {
        state = .draining
        let release = waiting
        waiting.removeAll()
        return (release, running == 0)
    }
}
