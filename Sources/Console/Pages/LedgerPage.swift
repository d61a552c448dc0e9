/// 账本 Ledger: the last `timebank ledger verify`, every check.
enum LedgerPage {
    static func render(_ run: ConsoleReads.LedgerRun?, viewer: Viewer) -> HTML {
        guard let run else {
            return Layout.page(title: "账本核对 Ledger verify", section: "/ledger", viewer: viewer,
                               "<p class=\"empty\">尚未核对 Not verified yet: run <code>timebank ledger verify</code> (e.g. from cron).</p>")
        }
        let rows = run.checks.map { check -> [HTML] in
            [check.problem == nil ? "<span class=\"state verified\">通过 ok</span>" : "<span class=\"state failed\">异常 broken</span>",
             "\(check.name)", "\(check.problem)"]
        }
        let summary: HTML = "<p>\(Format.time(run.ranAt)): " + (run.verified ? "<span class=\"state verified\" id=\"ledger-outcome\">账本核对通过 the ledger verifies</span>"
            : "<span class=\"state failed\" id=\"ledger-outcome\">账本核对失败 the ledger does not verify</span>") + "</p>"
        return Layout.page(title: "账本核对 Ledger verify", section: "/ledger", viewer: viewer,
                           summary + Layout.table(["结果 Result", "检查 Check", "问题 Problem"], rows))
    }
}
