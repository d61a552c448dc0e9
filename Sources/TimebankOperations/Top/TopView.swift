import Foundation

/// Renders a ``TopSnapshot`` as lines of at most `width` columns (80 by
/// default, so it works over SSH in any terminal): a pure function, tested
/// without a terminal. A worker's jobs per second come from its counters in
/// this snapshot and the previous one.
public struct TopView: Sendable {
    public var width: Int

    public init(width: Int = 80) { self.width = max(width, 60) }

    public func render(_ snapshot: TopSnapshot, previous: TopSnapshot? = nil) -> [String] {
        var lines: [String] = []
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        lines.append(row(["timebank top  " + formatter.string(from: snapshot.takenAt)], [-(width - 10)]) + "  q: quit")
        lines.append("")
        lines.append(row(["QUEUE", "WAITING", "RUNNING", "DONE/S", "FAILED/S", "OLDEST"], [-22, 10, 10, 10, 10, 12]))
        for queue in snapshot.queues {
            lines.append(row([
                queue.name + (queue.paused ? " (paused)" : ""), "\(queue.waiting)", "\(queue.running)",
                rate(queue.completedPerSecond), rate(queue.failedPerSecond), queue.oldestWaitingSeconds.map(age) ?? "-",
            ], [-22, 10, 10, 10, 10, 12]))
        }
        if snapshot.queues.isEmpty { lines.append("(no queues yet)") }
        lines.append("")
        lines.append(row(["WORKER", "STATE", "JOBS/S", "FAILED", "BEAT"], [-40, 8, 10, 10, 8]))
        let seconds = previous.map { snapshot.takenAt.timeIntervalSince($0.takenAt) } ?? 0
        let before = Dictionary(uniqueKeysWithValues: (previous?.workers ?? []).map { ($0.id, $0) })
        for worker in snapshot.workers {
            let perSecond = before[worker.id].flatMap { old in seconds > 0 ? Double(worker.jobsDone - old.jobsDone) / seconds : nil }
            lines.append(row([
                worker.id, worker.state, perSecond.map(rate) ?? "-", "\(worker.jobsFailed)", age(worker.heartbeatAgeSeconds),
            ], [-40, 8, 10, 10, 8]))
        }
        if snapshot.workers.isEmpty { lines.append("(no workers registered)") }
        return lines.map { String($0.prefix(width)) }
    }

    /// Columns padded to their widths (negative: left-aligned), cut to fit.
    private func row(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            let size = abs(width)
            let text = cell.count > size ? String(cell.prefix(size - 1)) + "…" : cell
            let padding = String(repeating: " ", count: max(0, size - text.count))
            return width < 0 ? text + padding : padding + text
        }.joined()
    }

    private func rate(_ value: Double) -> String { String(format: "%.1f", value) }

    private func age(_ seconds: Double) -> String {
        seconds < 120 ? String(format: "%.1f s", seconds) : seconds < 7200 ? String(format: "%.0f min", seconds / 60)
            : String(format: "%.1f h", seconds / 3600)
    }
}
