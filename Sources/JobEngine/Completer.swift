import Foundation
import Logging
import PostgresClient

/// Records attempts' ends in batches: while one batch is being written,
/// the next accumulates, so a busy worker pays one round trip for many
/// completions. A write that fails (database restarting) is retried with
/// the same results: they only apply to rows the worker still holds.
actor Completer {
    private let connection: PostgresConnection
    private let worker: String
    private let logger: Logger
    private var pending: [AttemptResult] = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var finishing = false

    init(connection: PostgresConnection, worker: String, logger: Logger) {
        self.connection = connection
        self.worker = worker
        self.logger = logger
    }

    /// Jobs whose results are not written yet: still held, leases renewed.
    private(set) var unwritten: Set<Int64> = []

    func submit(_ result: AttemptResult) {
        unwritten.insert(result.jobID)
        pending.append(result)
        waiter?.resume()
        waiter = nil
    }

    /// Ends `run()` once everything submitted is written.
    func finish() {
        finishing = true
        waiter?.resume()
        waiter = nil
    }

    func run() async {
        var failures = 0
        while true {
            if pending.isEmpty {
                if finishing { return }
                await withCheckedContinuation { waiter = $0 }
                continue
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            do {
                try await JobStore.record(connection, batch, worker: worker)
                for result in batch { unwritten.remove(result.jobID) }
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
}
