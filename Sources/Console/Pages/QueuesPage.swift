import JobEngine

/// 队列 Queues: every state's count per queue (`timebank jobs stats`),
/// paused or not; pause and resume for operators.
enum QueuesPage {
    static func render(_ stats: [JobAdmin.QueueStats], viewer: Viewer, notice: String?) -> HTML {
        let rows = stats.map { queue -> [HTML] in
            let counts = JobsPage.states.map { state -> HTML in
                let count = queue.counts[state] ?? 0
                return count == 0 ? "0" : "<a href=\"/jobs?queue=\(queue.queue)&amp;state=\(state)\">\(count)</a>"
            }
            let toggle = Layout.action(viewer, path: "/queues/\(queue.queue)/\(queue.paused ? "resume" : "pause")",
                                       label: queue.paused ? "恢复 Resume" : "暂停 Pause", back: "/queues", danger: !queue.paused)
            return ["<a href=\"/jobs?queue=\(queue.queue)\">\(queue.queue)</a>",
                    queue.paused ? "<span class=\"state paused\" data-paused=\"\(queue.queue)\">暂停 paused</span>"
                        : "<span class=\"state live\">运行 running</span>"]
                + counts + ["\(Format.age(queue.oldestAvailableAge))", toggle]
        }
        let table = Layout.table(["队列 Queue", "状态 State"] + JobsPage.states + ["最久等待 Oldest wait", "操作 Actions"], rows,
                                 empty: "还没有队列 No queues yet")
        return Layout.page(title: "队列 Queues", section: "/queues", viewer: viewer, notice: notice, refresh: true,
                           table + "<p class=\"muted\">暂停的队列不再被领取 A paused queue's jobs are not claimed; running ones finish.</p>")
    }
}
