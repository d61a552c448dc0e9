import Foundation
import JobEngine

/// 任务 Jobs: the newest jobs filtered by queue, kind and state (`timebank
/// jobs list`); one job's arguments and every error (`timebank jobs show`);
/// retry and cancel for operators.
enum JobsPage {
    static let states = ["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"]

    struct Filter: Sendable {
        var queue: String?
        var kind: String?
        var state: String?

        /// The query string, for the forms' way back to the same list.
        var path: String {
            let items = [("queue", queue), ("kind", kind), ("state", state)].compactMap { name, value in
                value.map { "\(name)=\(HTTPForm.percentEncoded($0))" }
            }
            return "/jobs" + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
        }
    }

    static func list(_ jobs: [JobAdmin.JobSummary], filter: Filter, viewer: Viewer, notice: String?) -> HTML {
        let options = ([""] + states).map { state -> HTML in
            "<option value=\"\(state)\"\(state == (filter.state ?? "") ? " selected" as HTML : "")>\(state.isEmpty ? "全部 any" : state)</option>"
        }
        let form: HTML = """
            <form method="get" action="/jobs" class="filters">
              <label>队列 Queue <input name="queue" value="\(filter.queue ?? "")" size="14"></label>
              <label>类型 Kind <input name="kind" value="\(filter.kind ?? "")" size="18"></label>
              <label>状态 State <select name="state">\(options)</select></label>
              <button type="submit">筛选 Filter</button>
            </form>
            """
        let rows = jobs.map { job -> [HTML] in
            ["<a href=\"/jobs/\(job.id)\">\(job.id)</a>", "\(job.queue)", "\(job.kind)", state(job.state),
             "\(job.attempt)/\(job.maxAttempts)", "\(Format.time(job.runAt))", actions(job, viewer: viewer, back: filter.path)]
        }
        let table = Layout.table(["编号 Id", "队列 Queue", "类型 Kind", "状态 State", "尝试 Attempt", "执行时间 Run at", "操作 Actions"], rows,
                                 empty: "没有符合的任务 No jobs match")
        return Layout.page(title: "任务 Jobs", section: "/jobs", viewer: viewer, notice: notice,
                           form + table + "<p class=\"muted\">最新 200 条 The newest 200</p>")
    }

    static func detail(_ job: JobAdmin.JobSummary, viewer: Viewer, notice: String?) -> HTML {
        let facts = Layout.table(["编号 Id", "队列 Queue", "类型 Kind", "状态 State", "尝试 Attempt", "执行时间 Run at", "创建 Created", "持有者 Held by"],
                                 [["\(job.id)", "<a href=\"/jobs?queue=\(job.queue)\">\(job.queue)</a>", "\(job.kind)", state(job.state),
                                   "\(job.attempt)/\(job.maxAttempts)", "\(Format.time(job.runAt))", "\(Format.time(job.createdAt))",
                                   "\(job.heldBy)"]])
        let body: HTML = """
            \(facts)
            <p>\(actions(job, viewer: viewer, back: "/jobs/\(job.id)"))</p>
            <h2>参数 Arguments</h2>
            <pre id="job-args">\(pretty(job.arguments))</pre>
            <h2>错误 Errors</h2>
            <pre id="job-errors">\(job.errors == "[]" ? "无 None" : pretty(job.errors))</pre>
            """
        return Layout.page(title: "任务 Job \(job.id)", section: "/jobs", viewer: viewer, notice: notice, body)
    }

    static func state(_ state: String) -> HTML { "<span class=\"state \(state)\">\(state)</span>" }

    /// Retry for what is not running, cancel for what is unfinished (as the SQL functions allow).
    static func actions(_ job: JobAdmin.JobSummary, viewer: Viewer, back: String) -> HTML {
        var forms: [HTML] = []
        if job.state != "running" && job.state != "available" {
            forms.append(Layout.action(viewer, path: "/jobs/\(job.id)/retry", label: "重试 Retry", back: back))
        }
        if !["completed", "discarded", "cancelled"].contains(job.state) {
            forms.append(Layout.action(viewer, path: "/jobs/\(job.id)/cancel", label: "取消 Cancel", back: back, danger: true))
        }
        return HTML.join(forms)
    }

    /// JSON indented for reading; as it came when it is not JSON.
    static func pretty(_ json: String) -> String {
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }
}
