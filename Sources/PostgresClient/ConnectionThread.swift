import Foundation

/// A serial executor backed by one dedicated OS thread.
///
/// Why: libpq's calls block (network waits, `poll` on the socket) and libpq
/// forbids two threads on one `PGconn`. Every ``PostgresConnection`` is an
/// actor whose executor is one of these threads, so
/// - a blocking libpq call never stalls Swift concurrency's shared,
///   core-sized thread pool (it blocks only its own connection's thread), and
/// - the `PGconn` is only ever touched by that one thread.
///
/// A thread per connection is cheap at the connection counts a worker uses
/// (a few to a few dozen); the cost is one thread hop per call made from
/// outside the actor, which hot loops avoid by running on the connection
/// (`isolated` parameters, ``PostgresConnection/transaction(isolation:_:)``).
final class ConnectionThread: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    private var thread: Thread?

    init(name: String) {
        // The thread keeps the executor alive until `shutdown()` lets the loop end.
        let thread = Thread { self.runLoop() }
        thread.name = name
        // libpq needs little stack; 512 KiB leaves room for deep Swift frames.
        thread.stackSize = 512 * 1024
        self.thread = thread
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        queue.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    func checkIsolated() {
        precondition(Thread.current === thread, "not on this connection's thread")
    }

    /// Asks the thread to finish the jobs it has and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        while let job = nextJob() {
            job.runSynchronously(isolatedTo: serial, taskExecutor: task)
        }
    }

    private func nextJob() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            if stopping {
                thread = nil
                return nil
            }
            if head > 0 { queue.removeAll(keepingCapacity: true); head = 0 }
            condition.wait()
        }
        let job = queue[head]
        head += 1
        if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
        return job
    }
}
