import CoreMetrics
import Foundation

/// The runtime's counters and timers (swift-metrics), by queue and job kind:
/// `jobs_claimed_total`, `jobs_completed_total`, `jobs_failed_total` (will
/// be retried), `jobs_discarded_total`, `jobs_snoozed_total`,
/// `jobs_cancelled_total`, `jobs_released_total`, `jobs_rescued_total`,
/// and the timers `job_run_seconds` (handler time) and `job_queue_wait_seconds`
/// (due to claimed). The process's metrics backend (Prometheus, in issue 9)
/// decides where they go; without one they cost next to nothing.
struct JobMetrics: Sendable {
    let factory: any MetricsFactory

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    private func dimensions(_ queue: String, _ kind: String) -> [(String, String)] {
        [("queue", queue), ("kind", kind)]
    }

    func claimed(_ job: ClaimedJob) {
        Counter(label: "jobs_claimed_total", dimensions: dimensions(job.queue, job.kind), factory: factory).increment()
        let wait = max(0, job.claimedAt.timeIntervalSince(job.runAt))
        Timer(label: "job_queue_wait_seconds", dimensions: dimensions(job.queue, job.kind), factory: factory)
            .recordNanoseconds(Int64(wait * 1e9))
    }

    func finished(_ job: ClaimedJob, _ result: AttemptResult, runTime: Duration) {
        let label: String
        switch result.kind {
        case .completed: label = "jobs_completed_total"
        case .failed: label = "jobs_failed_total"
        case .discarded: label = "jobs_discarded_total"
        case .snoozed: label = "jobs_snoozed_total"
        case .cancelled: label = "jobs_cancelled_total"
        case .released: label = "jobs_released_total"
        }
        Counter(label: label, dimensions: dimensions(job.queue, job.kind), factory: factory).increment()
        Timer(label: "job_run_seconds", dimensions: dimensions(job.queue, job.kind), factory: factory)
            .recordNanoseconds(runTime.inNanoseconds)
    }

    /// Each queue the worker serves, sampled with its heartbeat: jobs
    /// waiting (`jobs_waiting`) and the oldest waiting job's age
    /// (`job_oldest_waiting_seconds`), for alerts on a queue backing up.
    func queue(_ queue: String, waiting: Int, oldestSeconds: Double) {
        Gauge(label: "jobs_waiting", dimensions: [("queue", queue)], factory: factory).record(waiting)
        Gauge(label: "job_oldest_waiting_seconds", dimensions: [("queue", queue)], factory: factory).record(oldestSeconds)
    }

    func rescued(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "jobs_rescued_total", factory: factory).increment(by: count)
    }
}
