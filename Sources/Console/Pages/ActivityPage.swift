/// 操作记录 Activity: the console's own record (log-ins, refusals, actions).
enum ActivityPage {
    static func render(_ acts: [ConsoleReads.Act], viewer: Viewer) -> HTML {
        let rows = acts.map { act -> [HTML] in
            ["\(Format.time(act.at))", "\(act.login)", "\(act.action)", "\(act.target)", JobsPage.state(act.outcome), "\(act.reason)"]
        }
        return Layout.page(title: "操作记录 Console activity", section: "/activity", viewer: viewer,
                           Layout.table(["时间 At", "账户 Account", "操作 Action", "对象 Target", "结果 Outcome", "原因 Reason"], rows)
                           + "<p class=\"muted\">最近 100 条，保留 30 天 The newest 100 of the last 30 days</p>")
    }
}
