import CoreMetrics
import Foundation

/// Everything a worker's runtime can be tuned by, validated before it starts.
public struct WorkerConfiguration: Sendable {
    /// The worker's kind, e.g. `settlement-worker`; part of its instance id.
    public var name: String
    /// The queues this worker claims from.
    public var queues: [String]
    /// Jobs run at once, per queue.
    public var concurrency: Int = 10
    /// Jobs claimed per statement, at most.
    public var claimBatch: Int = 10
    /// Jobs claimed ahead, held (under lease) until a slot frees, so that a
    /// claim carries a full batch even when slots free one at a time. Good
    /// for many short jobs; 0 (the default) claims only for free slots, so
    /// a slow job never waits in one process while another sits idle.
    public var prefetch: Int = 0
    /// How often an idle producer looks for jobs without being notified.
    public var pollInterval: Duration = .seconds(1)
    /// How long a claimed job stays held without renewal. The holder renews
    /// every third of it, so a live worker's lease does not expire unless it
    /// cannot reach the database for two thirds of the lease.
    public var lease: Duration = .seconds(30)
    /// How often expired leases are looked for (in every worker).
    public var rescueInterval: Duration = .seconds(5)
    /// How often scheduled and retryable jobs that fell due are made available.
    public var promoteInterval: Duration = .milliseconds(500)
    /// Finished jobs are deleted this long after they finished.
    public var retention: Duration = .seconds(24 * 3600)
    public var pruneInterval: Duration = .seconds(60)
    /// How often the worker says it is alive (`jobs.worker_instance`).
    public var heartbeatInterval: Duration = .seconds(5)
    /// A worker silent this long is marked gone by the others.
    public var goneAfter: Duration = .seconds(30)
    /// What `timebank workers` shows as the worker's version.
    public var version = "dev"
    /// On shutdown, how long running jobs may take to finish before they
    /// are cancelled and handed back.
    public var shutdownGrace: Duration = .seconds(10)
    public var backoff = Backoff()
    /// Commit claims and results without waiting for their WAL flush
    /// (`synchronous_commit = off` on the runtime's own sessions). A database
    /// crash can then forget the last moment's claims and results: those
    /// jobs run again, which at-least-once delivery allows; enqueues and the
    /// handlers' own transactions stay as durable as the server makes them.
    public var asynchronousCommit = false
    /// Connections the handlers share (``JobContext/database``); a job
    /// beyond them waits for one. Nil: as many as `concurrency`, at most 16.
    public var handlerConnections: Int?
    /// Issue 16, item 5: a transaction pooler between the worker and
    /// PostgreSQL (``Pooler``, WorkerConfiguration+Pooling.swift).
    public var pooler: Pooler = .none
    /// A conninfo straight to PostgreSQL for the producers' sessions (they
    /// LISTEN, which needs a session of its own), when the rest go through a pooler.
    public var listenConninfo: String?
    /// No LISTEN at all: producers find jobs by polling every `pollInterval`
    /// (River's PollOnly), and register no idle worker (so no enqueue NOTIFYs for them).
    public var pollOnly = false
    /// The database role every session of the worker acts as (`SET ROLE`
    /// at connect, and again after a reconnect), so that it can touch only
    /// what its role is granted: `timebank_settlement` for the settlement
    /// worker. The login user must be a member. Nil: the login user's own.
    public var databaseRole: String?
    /// Issue 16: no session of the worker holds locks longer than a lease.
    /// A session idle inside a transaction this long (its process frozen
    /// between a batch's statement and its COMMIT: SIGSTOP, a VM pause, a
    /// stuck client) is ended by the server, which rolls it back and frees
    /// its row locks, so the others go on; its jobs are rescued when their
    /// lease runs out. Nil: a third of the lease.
    public var idleInTransactionTimeout: Duration?
    /// The longest any statement waits for a lock (then it fails, and the
    /// job is retried with backoff like any failure). Nil: a third of the lease.
    public var lockTimeout: Duration?
    /// The longest any statement runs. Nil: the lease (a statement that
    /// runs longer has lost its jobs' leases anyway).
    public var statementTimeout: Duration?

    /// The three timeouts as the sessions' settings (milliseconds), each
    /// derived from the lease when not set.
    public var sessionTimeouts: [(setting: String, milliseconds: Int64)] {
        func ms(_ duration: Duration) -> Int64 { max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000) }
        return [("idle_in_transaction_session_timeout", ms(idleInTransactionTimeout ?? lease / 3)),
                ("lock_timeout", ms(lockTimeout ?? lease / 3)),
                ("statement_timeout", ms(statementTimeout ?? lease))]
    }

    /// Where the runtime's metrics go (the process's bootstrapped backend by default).
    public var metricsFactory: any MetricsFactory = MetricsSystem.factory

    public init(name: String, queues: [String]) {
        self.name = name
        self.queues = queues
    }

    /// Refuses settings that cannot work, naming the setting.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw ConfigurationError(message: message) }
        }
        let queueName = /^[a-z][a-z0-9_]{0,47}$/
        try check(!queues.isEmpty, "queues: at least one queue is needed")
        for queue in queues { try check(queue.wholeMatch(of: queueName) != nil, "queues: \"\(queue)\" is not a queue name (a-z, 0-9, _; 48 at most)") }
        try check(Set(queues).count == queues.count, "queues: a queue is listed twice")
        try check(concurrency >= 1 && concurrency <= 1000, "concurrency: must be 1 to 1000")
        try check(claimBatch >= 1 && claimBatch <= 1000, "claim batch: must be 1 to 1000")
        try check(prefetch >= 0 && prefetch <= 1000, "prefetch: must be 0 to 1000")
        try check(handlerConnections.map { $0 >= 1 && $0 <= 1000 } ?? true, "handler connections: must be 1 to 1000")
        try check(pollInterval >= .milliseconds(10), "poll interval: must be at least 10 ms")
        try check(lease >= .seconds(1), "lease: must be at least 1 s")
        try check(rescueInterval > .zero && promoteInterval > .zero && pruneInterval > .zero, "intervals must be positive")
        try check(shutdownGrace >= .zero, "shutdown grace: must not be negative")
        try validatePooling()
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "invalid worker configuration: \(message)" }
}
